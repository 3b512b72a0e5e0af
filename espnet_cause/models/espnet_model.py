"""ESPnetCAUSEModel: speech -> 17 AU intensity sequence, trained by ESPnet's trainer.

Pipeline: frontend (log-mel at ``fs / hop_length`` fps) -> ``normalize`` (global MVN) ->
frame-rate conversion to ``au_fps`` (:mod:`espnet_cause.models.frame_rate`) -> encoder ->
linear output layer to 17 AUs. Targets are z-scored by ``au_normalize`` (global MVN on the AU
statistics from collect_stats); predictions are mapped back to the 0-5 scale and clipped.

With ``target: arkit`` (:mod:`espnet_cause.targets`) the same model learns the 51 MediaPipe ARKit
blendshapes instead: 51 outputs, their own statistics, predictions clipped to 0..1. The data
name stays ``au`` (it carries the target's labels: ``au.scp`` or ``blendshapes.scp``).
"""

from __future__ import annotations

import torch
from espnet2.asr.frontend.abs_frontend import AbsFrontend
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.train.abs_espnet_model import AbsESPnetModel
from torch import nn

from espnet_cause.arkit import au_weights_to_blendshapes
from espnet_cause.au import DEFAULT_AU_FPS, NUM_AUS
from espnet_cause.emotion import EMOTIONS, prototype_matrix
from espnet_cause.io.timegrid import num_frames_for_samples
from espnet_cause.losses.regression import (
    CCCLoss,
    MaskedL1Loss,
    MaskedMSELoss,
    masked_pearson,
)
from espnet_cause.models.encoders.abs_encoder import AbsCAUSEEncoder, length_mask
from espnet_cause.models.frame_rate import (
    RESAMPLE_MODES,
    avg_pool_frames,
    interp_frames,
    pool_ratio,
)
from espnet_cause.models.frontend import frontend_fs_hop
from espnet_cause.targets import get_target


def output_weights(names: tuple[str, ...], weights: dict[str, float] | None) -> torch.Tensor:
    """(D,) loss weights of the outputs ``names`` (mean 1), or an empty tensor for none.

    Raises:
        ValueError: for a name that is not an output or a weight that is not positive.
    """
    if not weights:
        return torch.zeros(0)
    unknown = sorted(set(weights) - set(names))
    if unknown:
        raise ValueError(
            f"loss_au_weights: {', '.join(unknown)} not among the outputs ({', '.join(names)})"
        )
    bad = {k: v for k, v in weights.items() if not float(v) > 0}
    if bad:
        raise ValueError(f"loss_au_weights must be > 0, got {bad}")
    w = torch.tensor([float(weights.get(n, 1.0)) for n in names])
    return w / w.mean()


class MaskedLinear(nn.Linear):
    """``nn.Linear`` whose weight is multiplied by a fixed 0/1 ``mask`` (all 1 by default), so
    masked connections stay 0 whatever the weights loaded or learned; the same state dict as
    ``nn.Linear`` (the mask is not saved: the model's config rebuilds it)."""

    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__(in_features, out_features)
        self.register_buffer("mask", torch.ones(out_features, in_features), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight * self.mask, self.bias)


class ESPnetCAUSEModel(AbsESPnetModel):
    """CAUSE: crossmodal action unit sequence estimation from speech.

    Args:
        frontend: Waveform -> features (B, F, D) at ``fs / hop_length`` fps.
        normalize: Feature normalisation (global MVN), or None.
        au_normalize: AU target normalisation (global MVN on AU stats), or None.
        encoder: Features at ``au_fps`` -> hidden features.
        num_aus: Output dimension; None (default) takes the target's (17 AUs, 51 blendshapes).
        au_fps: AU frame rate of targets and outputs.
        feats_resample: ``avg`` (pool ``fs / hop / au_fps`` frames, needs an integer ratio) or
            ``interp`` (linear interpolation).
        mse_weight: Weight of the masked MSE loss (normalised AU domain).
        l1_weight: Weight of the masked L1 loss.
        ccc_weight: Weight of the ``1 - CCC`` loss.
        extract_feats_in_collect_stats: Compute features in collect_stats (needed for stats).
        target: ``au`` (17 AUs, 0-5) or ``arkit`` (51 blendshapes, 0-1); see
            :mod:`espnet_cause.targets`.
        lookahead_frames: Let a causal encoder see this many AU frames past the frame it
            outputs: the encoder runs on the AU-rate features followed by ``lookahead_frames``
            copies of the last frame and output ``k`` is taken from encoder position
            ``k + lookahead_frames``. Faces move before the sound they shape (and
            smooth teacher tracks look ahead), so a strictly causal model (0) is always late;
            streaming latency grows by ``lookahead_frames / au_fps``.
        loss_au_weights: Weights of some outputs in every loss, by column name (e.g.
            ``{AU25: 3.0, AU26: 3.0}``; the others weigh 1), rescaled to mean 1 over the
            outputs so the loss keeps its scale; None (default): all equal.
        emotion_weight: Weight of a multi-task emotion cross-entropy on the encoder's
            utterance vector (an encoder with ``emotion_logits()``, e.g. ``expressive`` with
            ``num_emotions``), for batches that bring ``emotion`` data (class index in
            :data:`espnet_cause.emotion.EMOTIONS`, -1 = unlabelled); 0 (default): off.
        emotion_only_aus: Outputs (names) that only the heard emotion moves: the output layer's
            weights from the frame-level part of the encoder to them are held at 0, so they
            follow the encoder's emotion columns (an ``expressive`` encoder with
            ``expression_output: emotions``) and not, say, loudness; None (default): none.

    Per-utterance weights: :meth:`forward` takes an optional ``au_weight`` (B, D) batch (the
    data name ``au_weight``, a Kaldi ``au_weight.scp`` of ``.npy`` vectors, see
    :mod:`espnet_cause.io.au_weight`): each utterance's weight of each output in every loss (0:
    this output does not teach for this utterance, e.g. a tracker's unreliable AU), or a
    (B, T, D) batch of per-frame weights ((T, D) matrices, e.g. 0 on a real speaker's frames
    long before the speech starts). They
    multiply ``loss_au_weights``; losses are normalised by the total weight. A (17,) AU vector
    also weighs a ``target: arkit`` model (through
    :func:`espnet_cause.arkit.au_weights_to_blendshapes`).
    """

    def __init__(
        self,
        frontend: AbsFrontend,
        normalize: AbsNormalize | None,
        au_normalize: AbsNormalize | None,
        encoder: AbsCAUSEEncoder,
        num_aus: int | None = None,
        au_fps: float = DEFAULT_AU_FPS,
        feats_resample: str = "avg",
        mse_weight: float = 1.0,
        l1_weight: float = 0.0,
        ccc_weight: float = 0.0,
        extract_feats_in_collect_stats: bool = True,
        target: str = "au",
        lookahead_frames: int = 0,
        loss_au_weights: dict[str, float] | None = None,
        emotion_weight: float = 0.0,
        emotion_only_aus: list[str] | None = None,
    ) -> None:
        super().__init__()
        if lookahead_frames < 0:
            raise ValueError(f"lookahead_frames must be >= 0, got {lookahead_frames}")
        self.lookahead_frames = int(lookahead_frames)
        space = get_target(target)
        if num_aus is not None and num_aus != space.size:
            raise ValueError(f"num_aus {num_aus} does not fit target {target} ({space.size})")
        num_aus = space.size
        self.target = space.name
        self.output_range = (space.low, space.high)
        if feats_resample not in RESAMPLE_MODES:
            raise ValueError(f"feats_resample must be one of {RESAMPLE_MODES}: {feats_resample}")
        if mse_weight + l1_weight + ccc_weight <= 0:
            raise ValueError("at least one of mse_weight, l1_weight, ccc_weight must be > 0")
        self.frontend = frontend
        self.normalize = normalize
        self.au_normalize = au_normalize
        self.encoder = encoder
        self.output_layer = MaskedLinear(encoder.output_size(), num_aus)
        if emotion_only_aus:
            cols = getattr(encoder, "emotion_columns", None)
            if cols is None:
                raise ValueError("emotion_only_aus needs an encoder with emotion columns")
            unknown = sorted(set(emotion_only_aus) - set(space.names))
            if unknown:
                raise ValueError(f"emotion_only_aus: {', '.join(unknown)} not among the outputs")
            rows = [space.names.index(n) for n in emotion_only_aus]
            self.output_layer.mask[rows, : cols[0]] = 0.0
        self.num_aus = num_aus
        self.au_fps = float(au_fps)
        self.fs, self.hop_length = frontend_fs_hop(frontend)
        self.feat_fps = self.fs / self.hop_length
        self.feats_resample = feats_resample
        self.ratio = pool_ratio(self.feat_fps, self.au_fps) if feats_resample == "avg" else None
        self.loss_weights = {"mse": mse_weight, "l1": l1_weight, "ccc": ccc_weight}
        self.losses = nn.ModuleDict(
            {"mse": MaskedMSELoss(), "l1": MaskedL1Loss(), "ccc": CCCLoss()}
        )
        self.extract_feats_in_collect_stats = extract_feats_in_collect_stats
        if emotion_weight < 0:
            raise ValueError(f"emotion_weight must be >= 0, got {emotion_weight}")
        if emotion_weight > 0 and not hasattr(encoder, "emotion_logits"):
            raise ValueError("emotion_weight > 0 needs an encoder with emotion_logits()")
        self.emotion_weight = float(emotion_weight)
        self.init_emotion_columns()
        weights = output_weights(space.names, loss_au_weights)
        self.register_buffer("loss_au_weights", weights, persistent=False)

    @torch.no_grad()
    def init_emotion_columns(self) -> None:
        """An encoder that hands the output layer emotion probabilities (``emotion_columns``):
        start those weights at the prototype table (:data:`espnet_cause.emotion.PROTOTYPES`,
        ``strong``), in the normalised AU domain, so probability 1 of an emotion adds its face."""
        cols = getattr(self.encoder, "emotion_columns", None)
        if cols is None or self.target != "au":
            return

        table = torch.from_numpy(prototype_matrix(EMOTIONS)).T  # (17, 8)
        if table.size(1) != cols[1] - cols[0]:
            raise ValueError(f"{cols[1] - cols[0]} emotion columns for {table.size(1)} emotions")
        if self.au_normalize is not None and getattr(self.au_normalize, "norm_vars", False):
            table = table / self.au_normalize.std.detach().cpu().view(-1, 1).to(table)
        self.output_layer.weight[:, cols[0] : cols[1]] = table.to(self.output_layer.weight)

    # ------------------------------------------------------------------ features
    def _extract_feats(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, N) waveforms -> (B, F, D) raw features and (B,) lengths."""
        speech = speech[:, : int(speech_lengths.max())]
        return self.frontend(speech, speech_lengths)

    def to_au_rate(
        self, feats: torch.Tensor, feats_lengths: torch.Tensor, num_frames: torch.Tensor
    ) -> torch.Tensor:
        """(B, F, D) features -> (B, max(num_frames), D) at ``au_fps``."""
        if self.feats_resample == "avg":
            return avg_pool_frames(feats, feats_lengths, num_frames, self.ratio)
        return interp_frames(feats, feats_lengths, num_frames, self.feat_fps, self.au_fps)

    def num_frames(self, speech_lengths: torch.Tensor) -> torch.Tensor:
        """(B,) AU frames for (B,) sample counts: ``ceil(samples / fs * au_fps)``."""
        return torch.tensor(
            [num_frames_for_samples(int(n), self.fs, self.au_fps) for n in speech_lengths],
            dtype=torch.long,
            device=speech_lengths.device,
        )

    def encode(
        self, speech: torch.Tensor, speech_lengths: torch.Tensor, num_frames: torch.Tensor
    ) -> torch.Tensor:
        """Predict normalised AUs.

        Args:
            speech: (B, N) waveforms at ``fs``.
            speech_lengths: (B,) sample counts.
            num_frames: (B,) AU frames to produce (the target lengths in training).

        Returns:
            (B, max(num_frames), num_aus) in the ``au_normalize`` domain, zero past lengths.
        """
        feats, feats_lengths = self._extract_feats(speech, speech_lengths)
        if self.normalize is not None:
            feats, feats_lengths = self.normalize(feats, feats_lengths)
        xs = self.to_au_rate(feats, feats_lengths, num_frames)
        hs = self.run_encoder(xs, num_frames)
        mask = length_mask(num_frames, xs.size(1)).unsqueeze(-1).to(hs.dtype)
        return self.output_layer(hs) * mask

    def run_encoder(self, xs: torch.Tensor, num_frames: torch.Tensor) -> torch.Tensor:
        """The encoder with :attr:`lookahead_frames` (see the class docstring).

        Args:
            xs: (B, T, D) normalised features at ``au_fps``, zero past ``num_frames``.
            num_frames: (B,) valid frames.

        Returns:
            (B, T, H) encoder output, frame ``k`` aligned with input frame ``k``.
        """
        d = self.lookahead_frames
        if d == 0:
            return self.encoder(xs, num_frames)[0]
        # each utterance's last frame repeated d times (a zero frame would be "average speech")
        t = torch.arange(xs.size(1) + d, device=xs.device)
        last = (num_frames.to(xs.device) - 1).clamp(min=0)[:, None]
        idx = torch.minimum(t[None, :], last).unsqueeze(-1).expand(-1, -1, xs.size(2))
        hs, _ = self.encoder(torch.gather(xs, 1, idx), num_frames + d)
        return hs[:, d:]

    def denormalize(self, pred: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Normalised predictions (B, T, D) -> the target's scale (AUs 0-5, blendshapes 0-1),
        clipped, zero past lengths."""
        if self.au_normalize is not None:
            pred, _ = self.au_normalize.inverse(pred.clone(), lengths)
        mask = length_mask(lengths, pred.size(1)).unsqueeze(-1).to(pred.dtype)
        return pred.clamp(*self.output_range) * mask

    # ------------------------------------------------------------------ training
    def forward(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        au: torch.Tensor,
        au_lengths: torch.Tensor,
        au_weight: torch.Tensor | None = None,
        emotion: torch.Tensor | None = None,
        emotion_lengths: torch.Tensor | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """Loss, stats and weight for the ESPnet trainer.

        Args:
            speech: (B, N) waveforms.
            speech_lengths: (B,) sample counts.
            au: (B, T, D) targets on their scale (17 AUs 0-5, or 51 blendshapes 0-1).
            au_lengths: (B,) AU frames.
            au_weight: (B, D) / (B, 17) per-utterance or (B, T, D) / (B, T, 17) per-frame
                output weights (class docstring), or None (all 1). ``pcc`` leaves out what
                weighs 0.
            emotion: (B, 1) class indices (-1: unlabelled) for the ``emotion_weight`` loss.
            emotion_lengths: (B,) from the collate function, unused.

        Returns:
            The loss, stats (``loss``, ``mse``, ``l1``, ``ccc``, ``pcc``: mean over AUs of the
            Pearson correlation over the batch's valid frames, AUs constant in the batch left
            out) and the batch size as weight.
        """
        au = au[:, : int(au_lengths.max())]
        pred = self.encode(speech, speech_lengths, au_lengths)
        target = au.clone()
        if self.au_normalize is not None:
            target, _ = self.au_normalize(target, au_lengths)
        mask = length_mask(au_lengths, au.size(1))
        utt_weights = self.utterance_weights(au_weight, pred)
        weights = self.loss_au_weights if self.loss_au_weights.numel() else None
        if utt_weights is not None:
            weights = utt_weights if weights is None else utt_weights * weights
        values = {name: fn(pred, target, mask, weights) for name, fn in self.losses.items()}
        loss = sum(w * values[name] for name, w in self.loss_weights.items() if w > 0)
        extra = {}
        if self.emotion_weight > 0 and emotion is not None:
            labels = emotion.view(emotion.size(0), -1)[:, 0].long()
            logits = self.encoder.emotion_logits()
            ce = nn.functional.cross_entropy(logits, labels.clamp(min=-1), ignore_index=-1)
            if bool((labels >= 0).any()):
                loss = loss + self.emotion_weight * ce
                hit = (logits.argmax(-1) == labels)[labels >= 0].float().mean()
                extra = {"emotion_ce": ce.detach(), "emotion_acc": hit.detach()}
        # correlation is invariant to the per-AU affine normalisation: no need to map back
        pcc = masked_pearson(pred.detach(), au, mask, utt_weights)
        pcc_mean = pcc.nanmean() if not torch.isnan(pcc).all() else pcc.new_zeros(())
        stats = {name: v.detach() for name, v in values.items()}
        stats["loss"] = loss.detach()
        stats["pcc"] = pcc_mean
        stats.update(extra)
        loss, stats, weight = force_gatherable((loss, stats, speech.size(0)), loss.device)
        return loss, stats, weight

    def utterance_weights(
        self, au_weight: torch.Tensor | None, pred: torch.Tensor
    ) -> torch.Tensor | None:
        """(B, D) per-utterance or (B, T, D) per-frame output weights from an ``au_weight``
        batch, or None.

        Raises:
            ValueError: for a vector that is neither (D,) nor a (17,) AU vector of an
                ``arkit`` model, or a negative weight.
        """
        if au_weight is None:
            return None
        w = au_weight.to(pred.dtype)
        if w.dim() == 1:
            w = w[:, None]
        if w.size(-1) != self.num_aus:
            if self.target == "arkit" and w.size(-1) == NUM_AUS:
                w = torch.from_numpy(au_weights_to_blendshapes(w.cpu().numpy())).to(pred)
            else:
                raise ValueError(
                    f"au_weight vectors have {w.size(-1)} values; this model has {self.num_aus} "
                    "outputs (or 17 AU weights for an arkit model)"
                )
        if bool((w < 0).any()):
            raise ValueError("au_weight values must be >= 0")
        return w

    def collect_feats(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        au: torch.Tensor | None = None,
        au_lengths: torch.Tensor | None = None,
        **kwargs,
    ) -> dict[str, torch.Tensor]:
        """Features and raw AUs for collect_stats (``feats_stats.npz``, ``au_stats.npz``)."""
        feats, feats_lengths = self._extract_feats(speech, speech_lengths)
        out = {"feats": feats, "feats_lengths": feats_lengths}
        if au is not None and au_lengths is not None:
            out["au"] = au[:, : int(au_lengths.max())]
            out["au_lengths"] = au_lengths
        return out

    # ------------------------------------------------------------------ inference
    @torch.no_grad()
    def predict(
        self,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        num_frames: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Batch inference on the target's scale (see :meth:`denormalize`).

        Args:
            speech: (B, N) waveforms at ``fs``.
            speech_lengths: (B,) sample counts.
            num_frames: (B,) AU frames wanted; None: ``ceil(samples / fs * au_fps)``.

        Returns:
            (B, T, D) predictions (clipped to the target's range, zero past lengths), (B,) lengths.
        """
        if num_frames is None:
            num_frames = self.num_frames(speech_lengths)
        pred = self.encode(speech, speech_lengths, num_frames)
        return self.denormalize(pred, num_frames), num_frames

    @torch.no_grad()
    def inference(self, speech: torch.Tensor, num_frames: int | None = None) -> torch.Tensor:
        """One utterance: (N,) waveform at ``fs`` -> (T, D) on the target's scale.

        Frame ``k`` is at ``k / au_fps`` seconds; ``T = ceil(N / fs * au_fps)`` unless given.
        """
        lengths = torch.tensor([speech.size(0)], dtype=torch.long, device=speech.device)
        frames = None
        if num_frames is not None:
            frames = torch.tensor([num_frames], dtype=torch.long, device=speech.device)
        out, _ = self.predict(speech[None], lengths, frames)
        return out[0]
