"""A faster `Conv2D(filters, 4, strides=2, padding="same")` for CPU.

A 4x4 stride-2 "same" convolution of an even-sized input (TF pads 1 on each side) is a
stride-1 2x2 "valid" convolution of `space_to_depth(pad(x, 1), 2)`: output `(i, j)` reads
padded rows/columns `2i .. 2i + 3`, i.e. blocks `i, i + 1` of the space-to-depth input.
The 2x2 kernel over `4 * in_channels` channels is the 4x4 kernel regrouped,
`K2[bi, bj, (dy, dx, c), o] = K[2 bi + dy, 2 bj + dx, c, o]`. Same FLOPs, but the forward
pass and, above all, the input gradient (a stride-2 `Conv2DBackpropInput` for the plain
form, slow on x86 CPUs) become stride-1 convolutions.

Measured (benchmarks/conv_formulations.py, 2-core AVX2 EPYC, batch 240, float32, fwd +
bwd w.r.t. input and kernel): without XLA it is only faster at the first DCGAN-64 layer
(64x64x1 -> 32x32x64: 0.35 s vs 0.47 s) and 1.05-1.9x slower at the inner ones, the whole
encoder about even (3.40 s vs 3.33 s); under XLA, which the training step uses by default,
the whole encoder trains in 1.83 s instead of 2.51 s. So `common.conv2d` builds this layer
for every 4x4 stride-2 "same" convolution.

`FastConv2D` subclasses `keras.layers.Conv2D`: same variables, names, initialisers, config
and parameter count; only `call` differs. Other configurations fall back to Keras.
"""

import keras
import tensorflow as tf

FORMULATIONS = ("s2d", "reference")


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


_FUNCTIONS = {"s2d": conv_s2d, "reference": conv_reference}


@keras.saving.register_keras_serializable(package="tfgen")
class FastConv2D(keras.layers.Conv2D):
  """`keras.layers.Conv2D` computed faster on CPU for 4x4 stride 2 "same".

  Same constructor, variables (`kernel` `(4, 4, in_channels, filters)`, `bias`
  `(filters,)`), config and checkpoints as `Conv2D`. For `kernel_size=4, strides=2,
  padding="same"` (channels_last, no dilation, one group) `call` uses `formulation` when
  the input's height and width are statically even; otherwise it computes as Keras.

  Args:
    filters, kernel_size, ...: as `keras.layers.Conv2D`.
    formulation: str, one of `FORMULATIONS`: "s2d" (default, `space_to_depth` + 2x2 conv)
      or "reference" (`tf.nn.conv2d`).

  Call arguments:
    inputs: `(batch, h, w, in_channels)`.

  Returns:
    `(batch, h / 2, w / 2, filters)` for the fast configuration.
  """

  def __init__(self, filters, kernel_size, formulation="s2d", **kwargs):
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
