"""A faster `Conv2DTranspose(filters, 4, strides=2, padding="same")` for CPU.

`tf.nn.conv2d_transpose` (a `Conv2DBackpropInput` kernel) runs at a fraction of the speed
of a forward `conv2d` on x86 CPUs. A 4x4 stride-2 "same" transposed convolution is four
interleaved stride-1 2x2 convolutions ("phases"): with the input zero-padded by 1 on each
side, output pixel `(2i + py, 2j + px)` is a 2x2 "valid" correlation of the padded input at
`(i + py, j + px)` with the kernel taps `(3 - py - 2a, 3 - px - 2b)`, `a, b in {0, 1}`.
The phases are stacked on channels in `(py, px, filters)` order and interleaved with
`tf.nn.depth_to_space(., 2)`.

Under a custom gradient, the input gradient is the adjoint of the transposed convolution,
i.e. the forward `conv2d(dy, kernel, strides=2, padding="SAME")` (fast), and the kernel
gradient is either four stride-1 `Conv2DBackpropFilter` on the phases of `dy` or TF's
stride-2 one. Which is faster depends on the shape (benchmarks/conv_formulations.py,
2-core AVX2 EPYC, batch 240, float32, fwd + bwd): the phase forward is ~3-9x faster than
`conv2d_transpose` without XLA at 4x4 and 8x8 inputs with 512-1024 channels, but slower at
16x16 and much slower at 32x32 -> 1 channel; the phase kernel gradient wins only at 4x4.
The default formulation "auto" picks per input size accordingly.

`FastConv2DTranspose` subclasses `keras.layers.Conv2DTranspose`: same variables, names,
initialisers, config and parameter count; only `call` differs. Other configurations (kernel
size, strides, padding, dilation, output padding, channels_first) fall back to the Keras
computation.
"""

import keras
import tensorflow as tf

from tfgen.layers import fast_conv

FORMULATIONS = ("auto", "phase_cg", "phase_fwd", "phase", "conv3x3", "reference")


def _phase_kernel(kernel, py, px):
  """The 2x2 kernel of output phase `(py, px)`.

  Args:
    kernel: `(4, 4, filters, in_channels)` transposed-conv kernel (TF layout).
    py, px: int in {0, 1}, the output phase (row, column parity).

  Returns:
    `(2, 2, in_channels, filters)` `conv2d` kernel: taps `(3 - py - 2a, 3 - px - 2b)`.
  """
  taps = kernel[3 - py::-2, 3 - px::-2]  # (2, 2, filters, in_channels)
  return tf.transpose(taps, [0, 1, 3, 2])


def _phase_inputs(x):
  """The 4 shifted windows of the padded input, phase order `(0,0), (0,1), (1,0), (1,1)`.

  Args:
    x: `(batch, h, w, in_channels)`.

  Returns:
    List of 4 `(batch, h + 1, w + 1, in_channels)` tensors.
  """
  h, w = tf.shape(x)[1], tf.shape(x)[2]
  xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
  return [xp[:, py:py + h + 1, px:px + w + 1] for py in (0, 1) for px in (0, 1)]


def conv_transpose_phase(x, kernel):
  """4x4 stride-2 "same" transposed conv as 4 phase 2x2 convs + `depth_to_space`.

  Args:
    x: `(batch, h, w, in_channels)`.
    kernel: `(4, 4, filters, in_channels)`.

  Returns:
    `(batch, 2h, 2w, filters)`, equal to
    `tf.nn.conv2d_transpose(x, kernel, (batch, 2h, 2w, filters), 2, "SAME")`.
  """
  windows = _phase_inputs(x)
  phases = [tf.nn.conv2d(windows[2 * py + px], _phase_kernel(kernel, py, px), 1, "VALID")
            for py in (0, 1) for px in (0, 1)]
  return tf.nn.depth_to_space(tf.concat(phases, axis=-1), 2)


def conv_transpose_conv3x3(x, kernel):
  """4x4 stride-2 "same" transposed conv as one 3x3 conv to `4 * filters` channels.

  The 3x3 kernel holds each phase's 2x2 taps and zeros elsewhere (2.25x the FLOPs of the
  phase formulation, in a single convolution).

  Args:
    x: `(batch, h, w, in_channels)`.
    kernel: `(4, 4, filters, in_channels)`.

  Returns:
    `(batch, 2h, 2w, filters)`.
  """
  big = []
  for py in (0, 1):
    for px in (0, 1):
      k = _phase_kernel(kernel, py, px)  # (2, 2, cin, cout)
      big.append(tf.pad(k, [[py, 1 - py], [px, 1 - px], [0, 0], [0, 0]]))
  big = tf.concat(big, axis=-1)  # (3, 3, cin, 4 * cout)
  xp = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]])
  return tf.nn.depth_to_space(tf.nn.conv2d(xp, big, 1, "VALID"), 2)


def conv_transpose_reference(x, kernel):
  """`tf.nn.conv2d_transpose`, 4x4 stride 2 "same" (what Keras computes).

  Args:
    x: `(batch, h, w, in_channels)`.
    kernel: `(4, 4, filters, in_channels)`.

  Returns:
    `(batch, 2h, 2w, filters)`.
  """
  shape = tf.shape(x)
  output_shape = tf.stack([shape[0], 2 * shape[1], 2 * shape[2], tf.shape(kernel)[2]])
  return tf.nn.conv2d_transpose(x, kernel, output_shape, 2, "SAME")


def _kernel_grad_phase(x, dy, kernel):
  """Kernel gradient as four stride-1 2x2 `Conv2DBackpropFilter`, one per output phase.

  Args:
    x: `(batch, h, w, in_channels)`.
    dy: `(batch, 2h, 2w, filters)`.
    kernel: `(4, 4, filters, in_channels)` (for its shape).

  Returns:
    `(4, 4, filters, in_channels)`.
  """
  cin, cout = tf.shape(kernel)[3], tf.shape(kernel)[2]
  dy_phases = tf.split(tf.nn.space_to_depth(dy, 2), 4, axis=-1)  # (py, px, cout) order
  windows = _phase_inputs(x)
  dk = [tf.raw_ops.Conv2DBackpropFilter(
      input=windows[p], filter_sizes=tf.stack([2, 2, cin, cout]), out_backprop=dy_phases[p],
      strides=[1, 1, 1, 1], padding="VALID") for p in range(4)]  # (2, 2, cin, cout) each
  # dk[2 * py + px][a, b] is the gradient of taps (3 - py - 2a, 3 - px - 2b).
  dk = tf.reshape(tf.stack(dk), tf.stack([2, 2, 2, 2, cin, cout]))  # (py, px, a, b, ...)
  dk = tf.reshape(tf.transpose(dk, [2, 0, 3, 1, 4, 5]), tf.stack([4, 4, cin, cout]))
  return tf.transpose(tf.reverse(dk, [0, 1]), [0, 1, 3, 2])


def _kernel_grad_reference(x, dy, kernel):
  """Kernel gradient of `tf.nn.conv2d_transpose`: a stride-2 `Conv2DBackpropFilter`."""
  return tf.raw_ops.Conv2DBackpropFilter(
      input=dy, filter_sizes=tf.shape(kernel), out_backprop=x, strides=[1, 2, 2, 1],
      padding="SAME")


def conv_transpose(x, kernel, forward="phase", kernel_grad="phase", input_grad="auto"):
  """4x4 stride-2 "same" transposed conv with a chosen forward and kernel gradient.

  The input gradient is always `conv2d(dy, kernel, 2, "SAME")`, the adjoint of the
  transposed conv (a fast forward conv; it is also what TF's autodiff of
  `conv2d_transpose` computes, whereas autodiff of the phase form is 4 slower
  `Conv2DBackpropInput`). Traced for XLA it is computed in `fast_conv`'s space-to-depth
  form, and then "reference" / "reference" also takes this path: the whole DCGAN-64
  decoder trains 1-8% faster under XLA that way (`benchmarks/decoder_xla_variants.py`,
  batch 240, 2-core AVX2; within the machine's noise).

  Args:
    x: `(batch, h, w, in_channels)`.
    kernel: `(4, 4, filters, in_channels)`.
    forward: "phase" (4 phase convs + `depth_to_space`) or "reference"
      (`tf.nn.conv2d_transpose`).
    kernel_grad: "phase" (4 stride-1 `Conv2DBackpropFilter` on the phases of `dy`) or
      "reference" (one stride-2 `Conv2DBackpropFilter`).
    input_grad: "auto" (space-to-depth under XLA, else TF's conv) or "reference" (TF's
      stride-2 conv always; what tfgen did before, kept for the benchmark).

  Returns:
    `(batch, 2h, 2w, filters)`.
  """
  input_grad_fn = {"auto": fast_conv.conv_auto, "reference": fast_conv.conv_reference}[
      input_grad]
  if (forward == "reference" and kernel_grad == "reference"
      and (input_grad == "reference" or not fast_conv.in_xla_context())):
    return conv_transpose_reference(x, kernel)  # TF's autodiff computes the same gradients.
  forward_fn = {"phase": conv_transpose_phase, "reference": conv_transpose_reference}[forward]
  kernel_grad_fn = {"phase": _kernel_grad_phase, "reference": _kernel_grad_reference}[
      kernel_grad]

  @tf.custom_gradient
  def run(x, kernel):
    def grad(dy):
      return input_grad_fn(dy, kernel), kernel_grad_fn(x, dy, kernel)
    return forward_fn(x, kernel), grad

  return run(x, kernel)


def auto_choice(h, w):
  """`(forward, kernel_grad)` of "auto" for an `h x w` input (measured, see module doc).

  On the 2-core AVX2 CPU at the DCGAN-64 decoder shapes (batch 240), the phase forward
  beats `conv2d_transpose` when the input is at most 8x8 (many channels, few pixels) and
  loses above; the phase kernel gradient only wins at 4x4.
  """
  if h is None or w is None:
    return "reference", "reference"
  pixels = h * w
  return ("phase" if pixels <= 64 else "reference",
          "phase" if pixels <= 16 else "reference")


def conv_transpose_phase_cg(x, kernel):
  """`conv_transpose(x, kernel, "phase", "phase")`."""
  return conv_transpose(x, kernel, "phase", "phase")


def conv_transpose_phase_fwd(x, kernel):
  """`conv_transpose(x, kernel, "phase", "reference")`."""
  return conv_transpose(x, kernel, "phase", "reference")


def conv_transpose_auto(x, kernel):
  """`conv_transpose` with `auto_choice` of the static input size."""
  return conv_transpose(x, kernel, *auto_choice(x.shape[1], x.shape[2]))


_FUNCTIONS = {
    "auto": conv_transpose_auto,
    "phase_cg": conv_transpose_phase_cg,
    "phase_fwd": conv_transpose_phase_fwd,
    "phase": conv_transpose_phase,
    "conv3x3": conv_transpose_conv3x3,
    "reference": conv_transpose_reference,
}


@keras.saving.register_keras_serializable(package="tfgen")
class FastConv2DTranspose(keras.layers.Conv2DTranspose):
  """`keras.layers.Conv2DTranspose` computed faster on CPU for 4x4 stride 2 "same".

  Same constructor, variables (`kernel` `(4, 4, filters, in_channels)`, `bias`
  `(filters,)`), config and checkpoints as `Conv2DTranspose`. For `kernel_size=4,
  strides=2, padding="same"` (channels_last, no dilation or output padding) `call` uses
  the formulation `formulation`; any other configuration computes exactly as the Keras
  layer.

  Args:
    filters, kernel_size, ...: as `keras.layers.Conv2DTranspose`.
    formulation: str, one of `FORMULATIONS`: "auto" (default: `auto_choice` of the input
      size), "phase_cg" (4 phase convs, hand-written gradient with phase kernel gradient),
      "phase_fwd" (4 phase convs, hand-written gradient with the stride-2 kernel
      gradient), "phase" (4 phase convs, TF autodiff), "conv3x3" (one 3x3 conv to
      `4 * filters` + `depth_to_space`), "reference" (`tf.nn.conv2d_transpose`).

  Call arguments:
    inputs: `(batch, h, w, in_channels)`.

  Returns:
    `(batch, 2h, 2w, filters)` for the fast configuration.
  """

  def __init__(self, filters, kernel_size, formulation="auto", **kwargs):
    super().__init__(filters, kernel_size, **kwargs)
    if formulation not in FORMULATIONS:
      raise ValueError(f"Unknown formulation {formulation!r}; valid: {FORMULATIONS}.")
    self.formulation = formulation

  @property
  def is_fast(self):
    """Whether `call` uses `formulation` (True) or the Keras computation (False)."""
    return (tuple(self.kernel_size) == (4, 4) and tuple(self.strides) == (2, 2)
            and self.padding == "same" and tuple(self.dilation_rate) == (1, 1)
            and self.output_padding is None and self.data_format == "channels_last")

  def call(self, inputs):
    if not self.is_fast:
      return super().call(inputs)
    kernel = tf.convert_to_tensor(self.kernel)
    x = tf.convert_to_tensor(inputs)
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
