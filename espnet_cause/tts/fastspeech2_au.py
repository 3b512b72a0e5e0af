"""FastSpeech2 conditioned frame by frame on an AU stream (``--tts fastspeech2_au``).

The AU stream is an input condition, like a speaker embedding but per token: the frame-level
AU of the target speech (``au.scp`` from ``export_tts_features``, one row per feature frame) is
averaged over each token's duration, passed through a 1-D convolution to the attention dimension
and added to the encoder output *before* the duration, pitch and energy predictors, so the
expression sets the rate, the melody and the loudness as well as the decoder's input. An AU
predictor learns the token AU from the text (and speaker) so that synthesis works without any
AU input; given an AU stream, synthesis follows it instead:

- training: ``au`` (B, T_feats, 17) + ground-truth durations -> token AU targets, which are both
  the predictor's regression target (``au_loss``) and the embedding input (teacher forcing);
- inference with ``au`` (T_ref, 17) of any length (a reference utterance's CAUSE output, a
  hand-drawn curve, or one row for a constant expression): the stream is linearly stretched over
  the predicted durations and averaged per token; as the durations depend on the AU, this starts
  from the stream's mean on every token and is done twice (:meth:`FastSpeech2AU._fit_au_frames`);
- inference without ``au``: the predicted token AU is used.

The stream arrives already normalised by the ESPnet model (``au_normalize``, a per-AU affine
map, which commutes with stretching and averaging).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from espnet2.legacy.nets.pytorch_backend.nets_utils import make_pad_mask
from espnet2.legacy.nets.pytorch_backend.transformer.layer_norm import LayerNorm
from espnet2.torch_utils.device_funcs import force_gatherable
from espnet2.tts.fastspeech2 import FastSpeech2
from typeguard import typechecked

from espnet_cause.au import NUM_AUS
from espnet_cause.tts.au_ops import stretch, token_average


class AUPredictor(torch.nn.Module):
    """Token-level AU predictor: conv1d blocks (ReLU, LayerNorm, dropout) and a linear output.

    Args:
        idim: Input (encoder) dimension.
        odim: Number of AUs predicted.
        n_layers: Convolution blocks.
        n_chans: Channels of the blocks.
        kernel_size: Kernel size (odd).
        dropout_rate: Dropout after each block.
    """

    def __init__(
        self,
        idim: int,
        odim: int = NUM_AUS,
        n_layers: int = 2,
        n_chans: int = 384,
        kernel_size: int = 3,
        dropout_rate: float = 0.5,
    ) -> None:
        super().__init__()
        blocks = []
        for i in range(n_layers):
            blocks += [
                torch.nn.Conv1d(
                    idim if i == 0 else n_chans, n_chans, kernel_size, padding=kernel_size // 2
                ),
                torch.nn.ReLU(),
                LayerNorm(n_chans, dim=1),
                torch.nn.Dropout(dropout_rate),
            ]
        self.blocks = torch.nn.Sequential(*blocks)
        self.out = torch.nn.Linear(n_chans if n_layers else idim, odim)

    def forward(self, hs: torch.Tensor, masks: torch.Tensor | None = None) -> torch.Tensor:
        """Predict token AU.

        Args:
            hs: (B, T_text, idim) encoder states.
            masks: (B, T_text) True at padded tokens.

        Returns:
            (B, T_text, odim), zero at padded tokens.
        """
        if masks is not None:
            hs = hs.masked_fill(masks.unsqueeze(-1), 0.0)
        ys = self.out(self.blocks(hs.transpose(1, 2)).transpose(1, 2))
        if masks is not None:
            ys = ys.masked_fill(masks.unsqueeze(-1), 0.0)
        return ys


class FastSpeech2AU(FastSpeech2):
    """FastSpeech2 with a token-averaged AU stream added like pitch and energy.

    Args:
        idim: Vocabulary size.
        odim: Feature dimension.
        au_dim: AUs per frame (17).
        au_predictor_layers: Convolution blocks of the AU predictor.
        au_predictor_chans: Their channels.
        au_predictor_kernel_size: Their kernel size.
        au_predictor_dropout: Their dropout.
        au_embed_kernel_size: Kernel of the AU -> adim convolution.
        au_embed_dropout: Dropout after it.
        stop_gradient_from_au_predictor: Detach the encoder output fed to the AU predictor.
        au_loss_weight: Weight of the AU predictor's MSE in the total loss.
        **kwargs: Every FastSpeech2 argument (``adim``, ``elayers``, ``spk_embed_dim``, ...).
    """

    @typechecked
    def __init__(
        self,
        idim: int,
        odim: int,
        au_dim: int = NUM_AUS,
        au_predictor_layers: int = 2,
        au_predictor_chans: int = 384,
        au_predictor_kernel_size: int = 3,
        au_predictor_dropout: float = 0.5,
        au_embed_kernel_size: int = 9,
        au_embed_dropout: float = 0.5,
        stop_gradient_from_au_predictor: bool = False,
        au_loss_weight: float = 1.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(idim=idim, odim=odim, **kwargs)
        adim = self.feat_out.in_features  # FastSpeech2's attention dimension
        self.au_dim = au_dim
        self.au_loss_weight = au_loss_weight
        self.stop_gradient_from_au_predictor = stop_gradient_from_au_predictor
        self.au_predictor = AUPredictor(
            idim=adim,
            odim=au_dim,
            n_layers=au_predictor_layers,
            n_chans=au_predictor_chans,
            kernel_size=au_predictor_kernel_size,
            dropout_rate=au_predictor_dropout,
        )
        self.au_embed = torch.nn.Sequential(
            torch.nn.Conv1d(au_dim, adim, au_embed_kernel_size, padding=au_embed_kernel_size // 2),
            torch.nn.Dropout(au_embed_dropout),
        )

    def forward(
        self,
        text: torch.Tensor,
        text_lengths: torch.Tensor,
        feats: torch.Tensor,
        feats_lengths: torch.Tensor,
        durations: torch.Tensor,
        durations_lengths: torch.Tensor,
        pitch: torch.Tensor,
        pitch_lengths: torch.Tensor,
        energy: torch.Tensor,
        energy_lengths: torch.Tensor,
        au: torch.Tensor | None = None,
        au_lengths: torch.Tensor | None = None,
        spembs: torch.Tensor | None = None,
        sids: torch.Tensor | None = None,
        lids: torch.Tensor | None = None,
        joint_training: bool = False,
    ) -> tuple[torch.Tensor, dict[str, torch.Tensor], torch.Tensor]:
        """Compute the loss.

        Args:
            text: (B, T_text) token ids.
            text_lengths: (B,).
            feats: (B, T_feats, odim) target features.
            feats_lengths: (B,).
            durations: (B, T_text + 1) frames per token (eos included).
            durations_lengths: (B,).
            pitch: (B, T_text + 1, 1) token-averaged pitch.
            pitch_lengths: (B,).
            energy: (B, T_text + 1, 1) token-averaged energy.
            energy_lengths: (B,).
            au: (B, T_feats, au_dim) normalised frame-level AU (required in training).
            au_lengths: (B,) must equal ``feats_lengths``.
            spembs: (B, spk_embed_dim) speaker/AU embeddings.
            sids: (B, 1) speaker ids.
            lids: (B, 1) language ids.
            joint_training: Return the outputs instead of the batch size as third value.

        Returns:
            Loss, stats (l1, duration, pitch, energy, au losses) and the batch size.
        """
        if au is None:
            raise ValueError(
                "fastspeech2_au needs the frame-level AU stream in training: add "
                "--train_data_path_and_name_and_type <dir>/au.scp,au,kaldi_ark (and for valid)"
            )
        if au_lengths is not None and not torch.equal(au_lengths.cpu(), feats_lengths.cpu()):
            raise ValueError(
                f"AU frames {au_lengths.tolist()} != feature frames {feats_lengths.tolist()}: "
                "export au.scp with the fs and hop_length of feats_extract_conf"
            )
        text = text[:, : text_lengths.max()]
        feats = feats[:, : feats_lengths.max()]
        au = au[:, : feats_lengths.max()]
        durations = durations[:, : durations_lengths.max()]
        pitch = pitch[:, : pitch_lengths.max()]
        energy = energy[:, : energy_lengths.max()]
        batch_size = text.size(0)

        xs = F.pad(text, [0, 1], "constant", self.padding_idx)
        for i, length in enumerate(text_lengths):
            xs[i, length] = self.eos
        ilens = text_lengths + 1

        au_tokens = token_average(au, durations * self.reduction_factor)
        before, after, d_outs, p_outs, e_outs, a_outs = self._forward_au(
            xs, ilens, ys=feats, olens=feats_lengths, ds=durations, ps=pitch, es=energy,
            au_tokens=au_tokens, spembs=spembs, sids=sids, lids=lids,
        )  # fmt: skip

        olens = feats_lengths
        ys = feats
        if self.reduction_factor > 1:
            olens = olens.new([olen - olen % self.reduction_factor for olen in olens])
            ys = ys[:, : max(olens)]
        l1_loss, duration_loss, pitch_loss, energy_loss = self.criterion(
            after_outs=None if self.postnet is None else after,
            before_outs=before,
            d_outs=d_outs,
            p_outs=p_outs,
            e_outs=e_outs,
            ys=ys,
            ds=durations,
            ps=pitch,
            es=energy,
            ilens=ilens,
            olens=olens,
        )
        token_mask = ~make_pad_mask(ilens).to(xs.device)  # (B, T_text + 1) True at real tokens
        au_loss = F.mse_loss(a_outs[token_mask], au_tokens[token_mask])
        loss = l1_loss + duration_loss + pitch_loss + energy_loss + self.au_loss_weight * au_loss
        stats = dict(
            l1_loss=l1_loss.item(),
            duration_loss=duration_loss.item(),
            pitch_loss=pitch_loss.item(),
            energy_loss=energy_loss.item(),
            au_loss=au_loss.item(),
        )
        if joint_training:
            return loss, stats, after if self.postnet is not None else before
        stats.update(loss=loss.item())
        return force_gatherable((loss, stats, batch_size), loss.device)

    def _forward_au(
        self,
        xs: torch.Tensor,
        ilens: torch.Tensor,
        ys: torch.Tensor | None = None,
        olens: torch.Tensor | None = None,
        ds: torch.Tensor | None = None,
        ps: torch.Tensor | None = None,
        es: torch.Tensor | None = None,
        au_tokens: torch.Tensor | None = None,
        au_frames: torch.Tensor | None = None,
        spembs: torch.Tensor | None = None,
        sids: torch.Tensor | None = None,
        lids: torch.Tensor | None = None,
        is_inference: bool = False,
        alpha: float = 1.0,
    ) -> tuple[torch.Tensor, ...]:
        """Encoder, variance adaptor with AU, length regulator and decoder.

        Args:
            xs: (B, T_text + 1) token ids with eos.
            ilens: (B,).
            ys: (B, T_feats, odim) targets (for GST).
            olens: (B,) target lengths (training).
            ds, ps, es: Ground-truth durations, pitch, energy (training / teacher forcing).
            au_tokens: (B, T_text + 1, au_dim) token AU to use (training / teacher forcing).
            au_frames: (T_ref, au_dim) AU stream to stretch onto the predicted durations
                (inference, batch size 1); None with ``au_tokens`` None uses the predictor.
            spembs, sids, lids: Speaker/language conditioning.
            is_inference: Predict durations, pitch and energy.
            alpha: Speed control (durations are multiplied by it).

        Returns:
            before_outs (B, T_feats, odim), after_outs, d_outs (B, T_text + 1),
            p_outs, e_outs (B, T_text + 1, 1), a_outs (B, T_text + 1, au_dim) predicted AU
            when no AU was given at inference, else the AU that was used.
        """
        x_masks = self._source_mask(ilens)
        hs, _ = self.encoder(xs, x_masks)  # (B, T_text, adim)
        if self.use_gst:
            hs = hs + self.gst(ys).unsqueeze(1)
        if self.spks is not None:
            hs = hs + self.sid_emb(sids.view(-1)).unsqueeze(1)
        if self.langs is not None:
            hs = hs + self.lid_emb(lids.view(-1)).unsqueeze(1)
        if self.spk_embed_dim is not None:
            hs = self._integrate_with_spk_embed(hs, spembs)

        d_masks = make_pad_mask(ilens).to(xs.device)
        a_outs = self.au_predictor(
            hs.detach() if self.stop_gradient_from_au_predictor else hs, d_masks
        )
        d_fit = None  # the durations the stream was fitted to (inference with au_frames)
        if not is_inference:
            ds_used, a_in = ds, au_tokens
        elif au_tokens is not None:
            ds_used, a_in = None, au_tokens
        elif au_frames is not None:
            d_fit, ds_used, a_in = self._fit_au_frames(hs, d_masks, au_frames, alpha)
        else:
            ds_used, a_in = None, a_outs
        # the expression conditions everything after the text: durations, pitch, energy, decoder
        hs = hs + self.au_embed(a_in.transpose(1, 2)).transpose(1, 2)

        p_outs = self.pitch_predictor(
            hs.detach() if self.stop_gradient_from_pitch_predictor else hs, d_masks.unsqueeze(-1)
        )
        e_outs = self.energy_predictor(
            hs.detach() if self.stop_gradient_from_energy_predictor else hs, d_masks.unsqueeze(-1)
        )
        if is_inference:
            if d_fit is not None:  # report the durations used, not a new prediction
                d_outs = d_fit
            else:
                d_outs = self.duration_predictor.inference(hs, d_masks).masked_fill(d_masks, 0)
            if ds_used is None:
                ds_used = _scaled_durations(d_outs, alpha)
            p_in, e_in = p_outs, e_outs
            a_outs = a_in
        else:
            d_outs = self.duration_predictor(hs, d_masks)
            p_in, e_in = ps, es

        hs = (
            hs
            + self.pitch_embed(p_in.transpose(1, 2)).transpose(1, 2)
            + self.energy_embed(e_in.transpose(1, 2)).transpose(1, 2)
        )
        hs = self.length_regulator(hs, ds_used)  # (B, T_feats // r, adim)

        if is_inference:
            h_masks = self._source_mask(ds_used.sum(dim=-1))
        elif olens is not None:
            h_masks = self._source_mask(
                torch.div(olens, self.reduction_factor, rounding_mode="trunc")
            )
        else:
            h_masks = None
        zs, _ = self.decoder(hs, h_masks)
        before_outs = self.feat_out(zs).view(zs.size(0), -1, self.odim)
        if self.postnet is None:
            after_outs = before_outs
        else:
            masks = (
                h_masks if h_masks is not None and h_masks.size(-1) == before_outs.size(1) else None
            )
            after_outs = before_outs + self.postnet(before_outs.transpose(1, 2), masks).transpose(
                1, 2
            )
        return before_outs, after_outs, d_outs, p_outs, e_outs, a_outs

    def _fit_au_frames(
        self, hs: torch.Tensor, d_masks: torch.Tensor, au_frames: torch.Tensor, alpha: float
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Durations and token AU for a stream of any length (inference, batch size 1).

        The durations depend on the expression and the token AU on the durations, so this
        starts from the stream's mean on every token, predicts durations, stretches the stream
        over them and averages it per token, and does that twice.

        Args:
            hs: (1, T_text + 1, adim) encoder states.
            d_masks: (1, T_text + 1) True at padding.
            au_frames: (T_ref, au_dim) normalised AU stream.
            alpha: Speed control.

        Returns:
            (1, T_text + 1) predicted durations, the same scaled by ``alpha`` (what the length
            regulator uses), and (1, T_text + 1, au_dim) token AU averaged over the latter.
        """
        a_in = au_frames.mean(dim=0).expand(hs.size(0), hs.size(1), -1)
        for _ in range(2):
            h = hs + self.au_embed(a_in.transpose(1, 2)).transpose(1, 2)
            d_outs = self.duration_predictor.inference(h, d_masks).masked_fill(d_masks, 0)
            ds = _scaled_durations(d_outs, alpha)
            total = int(ds[0].sum()) * self.reduction_factor
            a_in = token_average(stretch(au_frames, total)[None], ds * self.reduction_factor)
        return d_outs, ds, a_in

    def inference(
        self,
        text: torch.Tensor,
        feats: torch.Tensor | None = None,
        durations: torch.Tensor | None = None,
        spembs: torch.Tensor | None = None,
        sids: torch.Tensor | None = None,
        lids: torch.Tensor | None = None,
        pitch: torch.Tensor | None = None,
        energy: torch.Tensor | None = None,
        au: torch.Tensor | None = None,
        alpha: float = 1.0,
        use_teacher_forcing: bool = False,
    ) -> dict[str, torch.Tensor]:
        """Synthesise features for one utterance, with the expression of ``au`` if given.

        Args:
            text: (T_text,) token ids.
            feats: (T_feats, odim) reference features (GST, teacher forcing).
            durations: (T_text + 1,) ground-truth durations (teacher forcing).
            spembs: (spk_embed_dim,) speaker/AU embedding.
            sids: (1,) speaker id.
            lids: (1,) language id.
            pitch: (T_text + 1, 1) teacher-forced pitch.
            energy: (T_text + 1, 1) teacher-forced energy.
            au: (T_ref, au_dim) normalised AU stream of any length; with teacher forcing it must
                be on the feature grid (T_feats rows) and is averaged over ``durations``.
            alpha: Speed control.
            use_teacher_forcing: Use ground-truth durations, pitch, energy (and AU).

        Returns:
            ``feat_gen`` (T_feats, odim), ``duration`` (T_text + 1,), ``pitch``, ``energy``
            (T_text + 1, 1), ``au`` (T_text + 1, au_dim) token AU used (normalised).
        """
        xs = F.pad(text, [0, 1], "constant", self.eos)[None]
        ilens = torch.tensor([xs.size(1)], dtype=torch.long, device=xs.device)
        ys = None if feats is None else feats[None]
        spembs = None if spembs is None else spembs[None]
        if use_teacher_forcing:
            ds = durations[None]
            au_tokens = None if au is None else token_average(au[None], ds * self.reduction_factor)
            if au_tokens is None:
                raise ValueError("teacher forcing with fastspeech2_au needs the AU stream")
            _, outs, d_outs, p_outs, e_outs, a_outs = self._forward_au(
                xs, ilens, ys, ds=ds, ps=pitch[None], es=energy[None], au_tokens=au_tokens,
                spembs=spembs, sids=sids, lids=lids,
            )  # fmt: skip
            a_outs = au_tokens
        else:
            _, outs, d_outs, p_outs, e_outs, a_outs = self._forward_au(
                xs, ilens, ys, au_frames=au, spembs=spembs, sids=sids, lids=lids,
                is_inference=True, alpha=alpha,
            )  # fmt: skip
        return dict(
            feat_gen=outs[0], duration=d_outs[0], pitch=p_outs[0], energy=e_outs[0], au=a_outs[0]
        )


def _scaled_durations(d_outs: torch.Tensor, alpha: float) -> torch.Tensor:
    """Durations the length regulator repeats by: scaled by ``alpha``, at least one frame per row."""
    ds = d_outs.long().clamp(min=0)
    if alpha != 1.0:
        ds = torch.round(ds.float() * alpha).long().clamp(min=0)
    empty = ds.sum(dim=1).eq(0)
    if empty.any():
        ds = ds.clone()
        ds[empty, 0] = 1
    return ds
