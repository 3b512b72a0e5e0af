"""ESPnetEmotionModel: speech -> frame-level posteriors over the 8 emotions, by ESPnet's trainer.

Pipeline (CAUSE's front half, :mod:`espnet_cause.models.espnet_model`): frontend (log-mel at
``fs / hop_length`` fps) -> ``normalize`` (global MVN) -> frame-rate conversion to ``au_fps`` ->
a CAUSE encoder -> linear layer to 8 logits per frame. Classes the corpus does not have
(``classes``) get the logit ``-inf``, so their posterior is exactly 0 in every frame.

Training: each frame is labelled with its utterance's emotion (frame-level cross-entropy,
averaged over the valid frames). The utterance-level vector is the mean of the frame posteriors;
its arg-max is the utterance's predicted class (the trainer's ``acc``).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from torch import nn

from espnet_cause.au import DEFAULT_AU_FPS
from espnet_cause.emotion import EMOTIONS, NUM_EMOTIONS, class_mask
from espnet_cause.io.timegrid import num_frames_for_samples
from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder, length_mask
from espnet_cause.models.frame_rate import (
    RESAMPLE_MODES,
    avg_pool_frames,
    interp_frames,
    pool_ratio,
)
from espnet_cause.models.frontend import frontend_fs_hop


def utterance_posteriors(posteriors: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
    """(B, T, 8) frame posteriors -> (B, 8) their mean over each utterance's valid frames."""
    mask = length_mask(lengths, posteriors.size(1)).unsqueeze(-1).to(posteriors.dtype)
    return (posteriors * mask).sum(1) / mask.sum(1).clamp(min=1.0)


class ESPnetEmotionModel(AbsESPnetModel):
    """Speech emotion recogniser with frame-level posteriors.

    Args:
        frontend: Waveform -> features (B, F, D) at ``fs / hop_length`` fps.
        normalize: Feature normalisation (global MVN), or None.
        encoder: Features at ``au_fps`` -> hidden features (any CAUSE encoder).
        classes: The emotions the corpus has (names of :data:`espnet_cause.emotion.EMOTIONS`,
            any spelling); the others are masked to posterior 0. None: all eight.
        au_fps: Frame rate of the posteriors.
        feats_resample: ``avg`` or ``interp`` (see :mod:`espnet_cause.models.frame_rate`).
        extract_feats_in_collect_stats: Compute features in collect_stats.
    """

    def __init__(
        self,
        frontend: AbsFrontend,
        normalize: AbsNormalize | None,
        encoder: AbsCAUSEEncoder,
        classes: Sequence[str] | None = None,
        au_fps: float = DEFAULT_AU_FPS,
        feats_resample: str = "avg",
        extract_feats_in_collect_stats: bool = True,
    ) -> None:
        super().__init__()
        if feats_resample not in RESAMPLE_MODES:
            raise ValueError(f"feats_resample must be one of {RESAMPLE_MODES}: {feats_resample}")
        mask = class_mask(classes)
        if sum(mask) < 2:
            raise ValueError(f"an emotion recogniser needs at least 2 classes, got {classes}")
        self.register_buffer("class_mask", torch.tensor(mask), persistent=False)
        self.classes = tuple(e for e, m in zip(EMOTIONS, mask) if m)
        self.frontend = frontend
        self.normalize = normalize
        self.encoder = encoder
        self.output_layer = nn.Linear(encoder.output_size(), NUM_EMOTIONS)
        self.au_fps = float(au_fps)
        self.fs, self.hop_length = frontend_fs_hop(frontend)
        self.feat_fps = self.fs / self.hop_length
        self.feats_resample = feats_resample
        self.ratio = pool_ratio(self.feat_fps, self.au_fps) if feats_resample == "avg" else None
        self.extract_feats_in_collect_stats = extract_feats_in_collect_stats

    def num_frames(self, speech_lengths: torch.Tensor) -> torch.Tensor:
        """(B,) posterior frames for (B,) sample counts: ``ceil(samples / fs * au_fps)``."""
        return torch.tensor(
            [num_frames_for_samples(int(n), self.fs, self.au_fps) for n in speech_lengths],
            dtype=torch.long,
            device=speech_lengths.device,
        )

    def logits(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, num_frames: torch.Tensor
    ) -> torch.Tensor:
        """(B, N) waveforms -> (B, max(num_frames), 8) logits, ``-inf`` on masked classes."""
        speech = speech[:, : int(speech_lengths.max())]
        feats, feats_lengths = self.frontend(speech, speech_lengths)
        if self.normalize is not None:
            feats, feats_lengths = self.normalize(feats, feats_lengths)
        if self.feats_resample == "avg":
            xs = avg_pool_frames(feats, feats_lengths, num_frames, self.ratio)
        else:
            xs = interp_frames(feats, feats_lengths, num_frames, self.feat_fps, self.au_fps)
        hs, _ = self.encoder(xs, num_frames)
        return self.output_layer(hs).masked_fill(~self.class_mask, float("-inf"))

    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        emotion: torch.Tensor,
        emotion_lengths: torch.Tensor | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """Loss, stats and weight for the ESPnet trainer.

        Args:
            speech: (B, N) waveforms.
            speech_lengths: (B,) sample counts.
            emotion: (B, 1) class indices into :data:`EMOTIONS`.
            emotion_lengths: (B,) ones (ESPnet's collate adds them).

        Returns:
            The loss (frame cross-entropy), stats (``loss``, ``acc``: utterance accuracy of the
            averaged posteriors) and the batch size as weight.
        """
        labels = emotion.reshape(emotion.size(0), -1)[:, 0].long()
        if not bool(self.class_mask[labels].all()):
            bad = sorted({EMOTIONS[i] for i in labels.tolist() if not self.class_mask[i]})
            raise ValueError(f"labels {bad} are not among the model's classes {self.classes}")
        num_frames = self.num_frames(speech_lengths)
        log_probs = torch.log_softmax(self.logits(speech, speech_lengths, num_frames), dim=-1)
        mask = length_mask(num_frames, log_probs.size(1)).to(log_probs.dtype)
        index = labels[:, None, None].expand(-1, log_probs.size(1), 1)
        nll = -log_probs.gather(2, index).squeeze(2)
        loss = (nll * mask).sum() / mask.sum().clamp(min=1.0)
        utt = utterance_posteriors(log_probs.detach().exp(), num_frames)
        acc = (utt.argmax(-1) == labels).float().mean()
        stats = {"loss": loss.detach(), "acc": acc}
        return force_gatherable((loss, stats, speech.size(0)), loss.device)

    def collect_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, **kwargs
    ) -> dict[str, torch.Tensor]:
        """Features for collect_stats (``feats_stats.npz``)."""
        speech = speech[:, : int(speech_lengths.max())]
        feats, feats_lengths = self.frontend(speech, speech_lengths)
        return {"feats": feats, "feats_lengths": feats_lengths}

    @torch.no_grad()
    def predict(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch inference.

        Args:
            speech: (B, N) waveforms at ``fs``.
            speech_lengths: (B,) sample counts.

        Returns:
            (B, T, 8) frame posteriors (rows sum to 1 on valid frames, masked classes exactly
            0, zero past lengths) and (B,) lengths.
        """
        num_frames = self.num_frames(speech_lengths)
        post = torch.softmax(self.logits(speech, speech_lengths, num_frames), dim=-1)
        mask = length_mask(num_frames, post.size(1)).unsqueeze(-1).to(post.dtype)
        return post * mask, num_frames

    @torch.no_grad()
    def inference(self, speech: torch.Tensor) -> torch.Tensor:
        """One utterance: (N,) waveform at ``fs`` -> (T, 8) frame posteriors."""
        lengths = torch.tensor([speech.size(0)], dtype=torch.long, device=speech.device)
        return self.predict(speech[None], lengths)[0][0]
