"""A faster `Conv2D(filters, 4, strides=2, padding="same")` for CPU.

A 4x4 stride-2 "same" convolution of an even-sized input (TF pads 1 on each side) is a
stride-1 2x2 "valid" convolution of `space_to_depth(pad(x, 1), 2)`: output `(i, j)` reads
padded rows/columns `2i .. 2i + 3`, i.e. blocks `i, i + 1` of the space-to-depth input.
The 2x2 kernel over `4 * in_channels` channels is the 4x4 kernel regrouped,
`K2[bi, bj, (dy, dx, c), o] = K[2 bi + dy, 2 bj + dx, c, o]`. Same FLOPs, but the forward
pass and, above all, the input gradient (a stride-2 `Conv2DBackpropInput` for the plain
form, slow on x86 CPUs) become stride-1 convolutions.

Measured (benchmarks/conv_formulations.py --whole, 2-core AVX2 EPYC, batch 240, float32,
fwd + bwd w.r.t. input and kernel, quiet machine): the whole DCGAN-64 encoder trains in
2.17 s with it against 2.62 s with Keras's `Conv2D` under XLA (the default training step),
but in 3.82 s against 3.25 s without XLA (per layer it only wins at the first one there,
64x64x1 -> 32x32x64). So the default formulation "auto" uses it when the call is traced
for XLA (`in_xla_context`) and `tf.nn.conv2d` otherwise; `common.conv2d` builds this layer
for every 4x4 stride-2 "same" convolution.

`FastConv2D` subclasses `keras.layers.Conv2D`: same variables, names, initialisers, config
and parameter count; only `call` differs. Other configurations fall back to Keras.
"""

import keras
import tensorflow as tf
from tensorflow.python.ops import control_flow_util  # pylint: disable=g-direct-tensorflow-import

FORMULATIONS = ("auto", "s2d", "reference")


def in_xla_context():
  """Whether ops built now are compiled by XLA (inside a `tf.function(jit_compile=True)`).

  Uses TF's internal `control_flow_util` (what TF's own ops consult for the same question);
  False in eager mode and in ordinary graphs.
  """
  if tf.executing_eagerly():
    return False
  return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())


def _s2d_kernel(kernel):
  """`(4, 4, cin, cout)` -> `(2, 2, 4 * cin, cout)`, channels in `(dy, dx, cin)` order."""
  cin, cout = tf.shape(kernel)[2], tf.shape(kernel)[3]
  k = tf.reshape(kernel, tf.stack([2, 2, 2, 2, cin, cout]))  # (bi, dy, bj, dx, cin, cout)
  k = tf.transpose(k, [0, 2, 1, 3, 4, 5])  # (bi, bj, dy, dx, cin, cout)
  return tf.reshape(k, tf.stack([2, 2, 4 * cin, cout]))


def conv_s2d(x, kernel):
  """4x4 stride-2 "same" conv as `space_to_depth` + a stride-1 2x2 "valid" conv.

  Args:
    x: `(batch, h, w, in_channels)`, `h` and `w` even.
    kernel: `(4, 4, in_channels, filters)`.

  Returns:
    `(batch, h / 2, w / 2, filters)`, equal to `tf.nn.conv2d(x, kernel, 2, "SAME")`.
  """
  xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
  return tf.nn.conv2d(tf.nn.space_to_depth(xp, 2), _s2d_kernel(kernel), 1, "VALID")


def conv_reference(x, kernel):
  """`tf.nn.conv2d(x, kernel, 2, "SAME")` (what Keras computes).

  Args:
    x: `(batch, h, w, in_channels)`.
    kernel: `(4, 4, in_channels, filters)`.

  Returns:
    `(batch, ceil(h / 2), ceil(w / 2), filters)`.
  """
  return tf.nn.conv2d(x, kernel, 2, "SAME")


def conv_auto(x, kernel):
  """`conv_s2d` when traced for XLA, else `conv_reference` (see the module doc)."""
  return conv_s2d(x, kernel) if in_xla_context() else conv_reference(x, kernel)


_FUNCTIONS = {"auto": conv_auto, "s2d": conv_s2d, "reference": conv_reference}


@keras.saving.register_keras_serializable(package="tfgen")
class FastConv2D(keras.layers.Conv2D):
  """`keras.layers.Conv2D` computed faster on CPU for 4x4 stride 2 "same".

  Same constructor, variables (`kernel` `(4, 4, in_channels, filters)`, `bias`
  `(filters,)`), config and checkpoints as `Conv2D`. For `kernel_size=4, strides=2,
  padding="same"` (channels_last, no dilation, one group) `call` uses `formulation` when
  the input's height and width are statically even; otherwise it computes as Keras.

  Args:
    filters, kernel_size, ...: as `keras.layers.Conv2D`.
    formulation: str, one of `FORMULATIONS`: "auto" (default: "s2d" under XLA, else
      "reference"), "s2d" (`space_to_depth` + 2x2 conv) or "reference" (`tf.nn.conv2d`).

  Call arguments:
    inputs: `(batch, h, w, in_channels)`.

  Returns:
    `(batch, h / 2, w / 2, filters)` for the fast configuration.
  """

  def __init__(self, filters, kernel_size, formulation="auto", **kwargs):
    super().__init__(filters, kernel_size, **kwargs)
    if formulation not in FORMULATIONS:
      raise ValueError(f"Unknown formulation {formulation!r}; valid: {FORMULATIONS}.")
    self.formulation = formulation

  @property
  def is_fast(self):
    """Whether the configuration is the one `formulation` implements."""
    return (tuple(self.kernel_size) == (4, 4) and tuple(self.strides) == (2, 2)
            and self.padding == "same" and tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1 and self.data_format == "channels_last")

  def call(self, inputs):
    x = tf.convert_to_tensor(inputs)
    h, w = x.shape[1], x.shape[2]
    if not (self.is_fast and h is not None and w is not None and h % 2 == 0 and w % 2 == 0):
      return super().call(inputs)
    kernel = tf.convert_to_tensor(self.kernel)
    outputs = _FUNCTIONS[self.formulation](tf.cast(x, kernel.dtype), kernel)
    if self.use_bias:
      outputs = tf.nn.bias_add(outputs, tf.cast(tf.convert_to_tensor(self.bias), outputs.dtype))
    if self.activation is not None:
      outputs = self.activation(outputs)
    return outputs

  def get_config(self):
    config = super().get_config()
    config["formulation"] = self.formulation
    return config
