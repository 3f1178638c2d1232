"""Models: one file per model, each with a frozen ``XConfig`` (tiny/cpu/paper presets) and ``X(nn.Module)``.

``MODELS`` names them for recipes and checkpoints: name -> (module, config class, model class).
"""

from __future__ import annotations

import importlib

from sightsound.errors import ParameterError

MODELS = {
    "mel_classifier": ("sightsound.models.mel_classifier", "MelClassifierConfig", "MelClassifier"),
    "gpt": ("sightsound.models.gpt", "GPTConfig", "GPT"),
    "gpt_task": ("sightsound.models.gpt_tasks", "GPTTaskConfig", "GPTForTask"),
    "wavenet": ("sightsound.models.wavenet", "WaveNetConfig", "WaveNet"),
    "tacotron2": ("sightsound.models.tacotron2", "Tacotron2Config", "Tacotron2"),
    "captioner": ("sightsound.models.captioner", "CaptionerConfig", "Captioner"),
    "av_embedding": ("sightsound.models.av_embedding", "AVEmbeddingConfig", "AVEmbedding"),
    "speech2face": ("sightsound.models.speech2face", "Speech2FaceConfig", "Speech2Face"),
    "dalle": ("sightsound.models.dalle", "DALLEConfig", "DALLE"),
    "shape_judge": ("sightsound.models.shape_judge", "ShapeJudgeConfig", "ShapeJudge"),
    "av_separation": ("sightsound.models.av_separation", "AVSeparationConfig", "AVSeparation"),
    "lip_motion": ("sightsound.models.lip_motion", "LipMotionConfig", "LipMotion"),
    "sync_expert": ("sightsound.models.sync_expert", "SyncExpertConfig", "SyncExpert"),
}


def model_classes(name: str):
    """(ConfigClass, ModelClass) for a registered model name."""
    try:
        module, config_name, model_name = MODELS[name]
    except KeyError:
        raise ParameterError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}") from None
    mod = importlib.import_module(module)
    return getattr(mod, config_name), getattr(mod, model_name)
