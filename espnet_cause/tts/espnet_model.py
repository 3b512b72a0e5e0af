"""ESPnet TTS model that carries a frame-level AU stream (``au``) to its TTS module."""

from __future__ import annotations

import torch
from espnet2.layers.abs_normalize import AbsNormalize
from espnet2.tts.abs_tts import AbsTTS
from espnet2.tts.espnet_model import ESPnetTTSModel
from espnet2.tts.feats_extract.abs_feats_extract import AbsFeatsExtract
from torch.amp import autocast


class ESPnetAUTTSModel(ESPnetTTSModel):
    """``ESPnetTTSModel`` plus the ``au`` input: (B, T_feats, 17) AU on the feature frame grid.

    Feature, pitch and energy extraction work as in ESPnet; the AU stream is normalised with
    ``au_normalize`` (e.g. global MVN from ``collect_stats``; None keeps the 0..5 scale) and
    handed to the TTS module as ``au``/``au_lengths``. ``collect_feats`` also returns ``au`` so
    that ``--collect_stats`` writes ``au_stats.npz``.

    Args:
        feats_extract, pitch_extract, energy_extract, normalize, pitch_normalize,
        energy_normalize, tts: As :class:`espnet2.tts.espnet_model.ESPnetTTSModel`.
        au_normalize: Normaliser of the AU stream, or None.
    """

    def __init__(
        self,
        feats_extract: AbsFeatsExtract | None,
        pitch_extract: AbsFeatsExtract | None,
        energy_extract: AbsFeatsExtract | None,
        normalize: AbsNormalize | None,
        pitch_normalize: AbsNormalize | None,
        energy_normalize: AbsNormalize | None,
        tts: AbsTTS,
        au_normalize: AbsNormalize | None = None,
    ) -> None:
        super().__init__(
            feats_extract=feats_extract,
            pitch_extract=pitch_extract,
            energy_extract=energy_extract,
            normalize=normalize,
            pitch_normalize=pitch_normalize,
            energy_normalize=energy_normalize,
            tts=tts,
        )
        self.au_normalize = au_normalize

    def forward(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        durations: torch.Tensor | None = None,
        durations_lengths: torch.Tensor | None = None,
        pitch: torch.Tensor | None = None,
        pitch_lengths: torch.Tensor | None = None,
        energy: torch.Tensor | None = None,
        energy_lengths: torch.Tensor | None = None,
        au: torch.Tensor | None = None,
        au_lengths: torch.Tensor | None = None,
        spembs: torch.Tensor | None = None,
        sids: torch.Tensor | None = None,
        lids: torch.Tensor | None = None,
        **kwargs,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """Loss of a batch.

        Args:
            text: (B, T_text) token ids; text_lengths (B,).
            speech: (B, T_wav) waveforms (or features when feats_extract is None); (B,) lengths.
            durations, pitch, energy: Optional ESPnet inputs, as in ESPnetTTSModel.
            au: (B, T_feats, 17) frame-level AU on the feature grid; au_lengths (B,).
            spembs: (B, D); sids, lids: (B, 1).
            kwargs: ``utt_id`` and other unused inputs.

        Returns:
            Loss, stats and weight from the TTS module.
        """
        with autocast("cuda", enabled=False):
            if self.feats_extract is not None:
                feats, feats_lengths = self.feats_extract(speech, speech_lengths)
            else:
                feats, feats_lengths = speech, speech_lengths
            aux = dict(
                feats_lengths=feats_lengths,
                durations=durations,
                durations_lengths=durations_lengths,
            )
            if self.pitch_extract is not None and pitch is None:
                pitch, pitch_lengths = self.pitch_extract(speech, speech_lengths, **aux)
            if self.energy_extract is not None and energy is None:
                energy, energy_lengths = self.energy_extract(speech, speech_lengths, **aux)
            if self.normalize is not None:
                feats, feats_lengths = self.normalize(feats, feats_lengths)
            if self.pitch_normalize is not None:
                pitch, pitch_lengths = self.pitch_normalize(pitch, pitch_lengths)
            if self.energy_normalize is not None:
                energy, energy_lengths = self.energy_normalize(energy, energy_lengths)
            if au is not None and self.au_normalize is not None:
                au, au_lengths = self.au_normalize(au, au_lengths)

        batch = dict(text=text, text_lengths=text_lengths, feats=feats, feats_lengths=feats_lengths)
        optional = dict(
            spembs=spembs,
            sids=sids,
            lids=lids,
            durations=durations,
            durations_lengths=durations_lengths,
            pitch=pitch,
            pitch_lengths=pitch_lengths,
            energy=energy,
            energy_lengths=energy_lengths,
            au=au,
            au_lengths=au_lengths,
        )
        batch.update({k: v for k, v in optional.items() if v is not None})
        if self.tts.require_raw_speech:
            batch.update(speech=speech, speech_lengths=speech_lengths)
        return self.tts(**batch)

    def collect_feats(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        speech: torch.Tensor,
        speech_lengths: torch.Tensor,
        au: torch.Tensor | None = None,
        au_lengths: torch.Tensor | None = None,
        **kwargs,
    ) -> dict[str, torch.Tensor]:
        """ESPnet's feature dict plus ``au``/``au_lengths`` for ``au_stats.npz``."""
        feats = super().collect_feats(text, text_lengths, speech, speech_lengths, **kwargs)
        if au is not None:
            feats.update(au=au, au_lengths=au_lengths)
        return feats

    def inference(
        self,
        text: torch.Tensor,
        au: torch.Tensor | None = None,
        **kwargs,
    ) -> dict[str, torch.Tensor]:
        """Synthesise one utterance; ``au`` (T_ref, 17) on the 0..5 scale sets the expression.

        Args:
            text: (T_text,) token ids.
            au: (T_ref, 17) AU stream (any length; normalised here like in training), or None.
            kwargs: ``speech``, ``spembs``, ``sids``, ``lids``, ``durations``, ``pitch``,
                ``energy`` and the decoding options of ``ESPnetTTSModel.inference``.

        Returns:
            The TTS module's output dict (``feat_gen``, ``feat_gen_denorm``, ``au``, ...).
        """
        if au is not None:
            if self.au_normalize is not None:
                # GlobalMVN works in place: normalise a copy, or the caller's stream (a cached
                # reference reused for the next sentence) is normalised again at every call
                au = self.au_normalize(au[None].clone())[0][0]
            kwargs["au"] = au  # passed through decode_config to tts.inference
        return super().inference(text, **kwargs)
