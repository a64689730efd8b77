"""Picks the frame encoder/decoder pair by name; shared by SVG and DrNET."""

ARCHITECTURES = ("dcgan", "vgg")


def encoder_decoder(architecture, *, image_size=64, output_dim=128, channels=1,
                    base_filters=64, synchronized_batch_norm=True):
  """Returns `(encoder, decoder)` of `architecture` ("dcgan" or "vgg") at `image_size`.

  Args:
    architecture: str, "dcgan" (SM-MNIST) or "vgg" (KTH, BAIR); the reference's `--model`.
    image_size: int, 64 or 128 (`--image_width`).
    output_dim: int, encoder output / decoder input size (`g_dim`).
    channels: int, frame channels.
    base_filters: int, width of the first block (64 in the reference).
    synchronized_batch_norm: bool, batch statistics over the global batch under a strategy.
  """
  if architecture == "dcgan":
    from tfgen.layers.dcgan_decoder import DCGANDecoder
    from tfgen.layers.dcgan_encoder import DCGANEncoder
    encoder_cls, decoder_cls = DCGANEncoder, DCGANDecoder
  elif architecture == "vgg":
    from tfgen.layers.vgg_decoder import VGGDecoder
    from tfgen.layers.vgg_encoder import VGGEncoder
    encoder_cls, decoder_cls = VGGEncoder, VGGDecoder
  else:
    raise ValueError(f"Unknown architecture {architecture!r}; valid: "
                     f"{', '.join(ARCHITECTURES)}.")
  encoder = encoder_cls(output_dim=output_dim, image_size=image_size,
                        base_filters=base_filters,
                        synchronized_batch_norm=synchronized_batch_norm, name="encoder")
  decoder = decoder_cls(channels=channels, image_size=image_size, base_filters=base_filters,
                        synchronized_batch_norm=synchronized_batch_norm, name="decoder")
  return encoder, decoder
