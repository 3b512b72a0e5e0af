#!/usr/bin/env bash
# CAUSE recipe: speech -> facial action unit (AU) sequences, face rendering, AU features for TTS.
#   ./run.sh                          stages 1-6 on the synthetic mini corpus
#   ./run.sh --stage 4 --stop-stage 5 --train_config conf/cause_cnn.yaml
# Every stage skips work that is done (exp/done/stageN) and the CLIs resume inside a stage
# (training from its last checkpoint); --force true re-runs the selected stages (remove the exp
# dir to train from scratch). Logs: exp/**/*.log.
set -euo pipefail

stage=1                  # first stage to run
stop_stage=6             # last stage to run (7: AU features for TTS, 8: expressive TTS)
force=false              # true: re-run selected stages even if done
corpus=mini              # mini | crema_d | mead | voxceleb2 | lrs3 | folder | grid | ravdess (voices only: expression targets)
mini_speakers=16         # mini corpus: eSpeak NG voices
mini_utts=20             # mini corpus: sentences per voice
mini_flite_speakers=0    # mini corpus: extra voices spoken by CMU Flite (needs Debian libflite1)
au_extractor=mediapipe   # mediapipe (built-in) | openface (import OpenFace CSVs)
au_fps=25                # AU frame rate of labels and models
max_fail_fraction=0.3    # stage 2 fails when more utterances than this are not kept
nj_config=conf/parallel/local.yaml   # Dask cluster for per-utterance jobs (local, slurm, pbs, sge)
stats_nj=1               # stage 3 in this many collect_stats jobs on the --nj_config cluster
train_config=conf/cause_ci.yaml      # CAUSE model and training (conf/cause_{cnn,dcnn,rnn,mlp,conformer}.yaml)
ngpu=0                   # GPUs for CAUSE training (ESPnet DDP when > 1)
gan_config=conf/ganimation_ci.yaml   # GANimation (conf/ganimation.yaml: the paper's setting)
renderer=ganimation      # ganimation (trained in stage 6) | warp (training-free)
num_render=3             # test utterances rendered in stage 6 (besides the demo speech)
emotion_config=conf/emotion_ci.yaml  # speech emotion recogniser (stage 5, corpora with emotion labels)
gan_emotion_config=conf/ganimation_emotion_ci.yaml  # emotion-conditioned GANimation (stage 6)
num_compare=2            # test utterances in stage 6's AU-vs-emotion comparison
tts_au_model=            # stages 7-8: CAUSE model for the AU streams: a zip or a built-in name (expressive: CC BY-NC-SA 4.0); default the stage-4 model
tts_label_emotions=true  # stage 7, a model with an emotion recogniser (expressive): the train/valid streams show their labelled emotions (data/<set>/emotion) instead of the heard ones
tts_reference_dir=       # stages 7-8: also steer the voice with this data dir's happy vs sad speech (wav.scp, emotion; e.g. data/ravdess/valid) -> synth_reference
tts_fs=16000             # sample rate of the TTS features that stages 7-8 use (mini: 16 kHz)
tts_hop=256              # hop length of the TTS features that stages 7-8 use
tts_config=conf/tts_fastspeech2_au_mini.yaml            # stage 8: FastSpeech2AU (frame-level AU)
tts_spembs_config=conf/tts_fastspeech2_au_embed_mini.yaml  # stage 8: stock FastSpeech2, AU spembs ("" skips)
tts_control_config=conf/tts_fastspeech2_mini.yaml       # stage 8: stock FastSpeech2 without AU
datadir=data             # stage 1 writes the corpus's data dirs here (a second corpus: its own, e.g. data_grid)
dumpdir=dump             # stage 2 writes labels and 16 kHz audio here (a second corpus: its own, e.g. dump_grid)
au_weights=              # stage 2: per-AU loss weights of every utterance (conf/au_weights/*.yaml) -> au_weight.scp
mask_outside_speech=     # stage 2: weigh 0 the frames more than this many seconds before/after the speech
close_lips=false         # stage 2, with --mask_outside_speech: label the lips closed there (AU25, AU26 0) instead
mix_dumpdirs=            # stages 3-5: also train on these dump dirs' train/valid sets (e.g. dump, the mini corpus's)
mix_weights=             # stage 3: per --mix_dumpdirs entry, an AU weight table (conf/au_weights/*.yaml, or none) for its utterances without au_weight.scp
calibrate_dir=           # stage 4: scale the packed model's mouth AUs to this dump dir's tracked spread (e.g. dump_grid/train; pack_model --calibrate_dir)
train_set=train
valid_set=valid
test_set=test

options() { sed -n '/^stage=/,/^test_set=/p' "$0"; }
usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; options | sed -E 's/^([a-z_]+)=([^ ]*) *#? *(.*)/  --\1 (\2) \3/'; }
# Options: --name value or --name=value for every variable above (dashes or underscores).
. utils/parse_options.sh

. ./path.sh
. ./db.sh
export PYTHONPATH=${PYTHONPATH:-}

expdir=exp/$(basename "${train_config}" .yaml)         # derived, not an option
ganexp=exp/ganimation                                   # derived, not an option
emoexp=exp/$(basename "${emotion_config}" .yaml)        # derived, not an option
# What the model learns (model_conf.target in the config): au -> dump/<set>/au.scp and exp/stats;
# arkit (51 blendshapes) -> dump/<set>/blendshapes.scp and exp/stats_arkit.
target=$(python -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])) or {}; print((c.get("model_conf") or {}).get("target", "au"))' "${train_config}")
case "${target}" in
    au) labels=au.scp; statsdir=exp/stats ;;
    arkit) labels=blendshapes.scp; statsdir=exp/stats_arkit ;;
    *) echo "run.sh: ${train_config}: unknown model_conf.target '${target}' (au or arkit)" >&2; exit 2 ;;
esac
# Another dump dir, or a mix of several (stages 3-5 train on ${dumpdir}/<set>_mix then), has its
# own statistics: exp/stats<datatag>.
datatag=
[ "${dumpdir}" = dump ] || datatag=_${dumpdir//\//_}
for mixdir in ${mix_dumpdirs}; do datatag=${datatag}+${mixdir//\//_}; done
statsdir=${statsdir}${datatag}
log() { echo "$(date '+%Y-%m-%d %H:%M:%S') (run.sh) $*"; }
# Stages 1-3 depend on the data only (stage 3 on the target too); 4 and later on the model, so
# their markers live in the model's exp dir (another --train_config runs them again).
marker() {
    if [ "$1" -eq 1 ]; then echo "exp/done/stage1$([ "${datadir}" = data ] || echo "_${datadir//\//_}")"
    elif [ "$1" -eq 2 ]; then echo "exp/done/stage2$([ "${dumpdir}" = dump ] || echo "_${dumpdir//\//_}")"
    elif [ "$1" -eq 3 ]; then echo "exp/done/stage3$([ "${target}" = au ] || echo "_${target}")${datatag}"
    else echo "${expdir}/done/stage$1"; fi
}
# run_stage N "what": true when stage N is selected and not yet done.
run_stage() {
    [ "$1" -ge "${stage}" ] && [ "$1" -le "${stop_stage}" ] || return 1
    if [ -f "$(marker "$1")" ] && [ "${force}" != true ]; then
        log "stage $1 ($2): done before, skipping ($(marker "$1"); --force true re-runs)"; return 1
    fi
    log "stage $1: $2"
}
stage_done() { mkdir -p "$(dirname "$(marker "$1")")"; date > "$(marker "$1")"; log "stage $1 finished"; }
# logged LOG cmd...: run a command, showing its output (progress bars) and keeping it in LOG.
logged() { local l=$1; shift; mkdir -p "$(dirname "$l")"; echo "# $*" > "$l"; "$@" 2>&1 | tee -a "$l"; }


if run_stage 1 "data preparation (${corpus})"; then
    mini_size=()
    [ "${corpus}" = mini ] && mini_size=(--num_speakers "${mini_speakers}" --utts_per_speaker "${mini_utts}" --flite_speakers "${mini_flite_speakers}")
    logged exp/data_prep.log local/data.sh --corpus "${corpus}" --output_dir ${datadir} \
        --face_image "${FACE_IMAGE}" --face_landmarker_path "${FACE_LANDMARKER}" "${mini_size[@]}"
    stage_done 1
fi

if run_stage 2 "AU labels (${au_extractor}) and 16 kHz audio -> ${dumpdir}/"; then
    for dset in ${train_set} ${valid_set} ${test_set}; do
        if [ ! -s ${datadir}/${dset}/video.scp ] && [ -s ${datadir}/${dset}/emotion ]; then
            # Voices without faces, labelled by emotion (ravdess): targets made from the labels
            # (the built-in model's speech motion + the emotion's FACS prototype over time) and
            # per-AU loss weights (espnet_cause/corpora/expression.py).
            logged exp/au_labels${datatag}/${dset}.log python -m espnet_cause.bin.make_expression_targets \
                --data_dir ${datadir}/${dset} --output_dir ${dumpdir}/${dset}
        else
            logged exp/au_labels/${dset}.log python -m espnet_cause.bin.make_au_labels \
                --data_dir ${datadir}/${dset} --output_dir ${dumpdir}/${dset} --au_extractor ${au_extractor} \
                --face_landmarker_path "${FACE_LANDMARKER}" --au_fps ${au_fps} \
                --max_fail_fraction ${max_fail_fraction} --parallel_config ${nj_config} \
                ${au_weights:+--au_weights "${au_weights}"} \
                ${mask_outside_speech:+--mask_outside_speech "${mask_outside_speech}"} \
                $([ "${close_lips}" = true ] && echo --close_lips_outside_speech)
        fi
        # Emotion labels as class indices (a model with an emotion head trains on them; stage 5b too)
        [ ! -s ${datadir}/${dset}/emotion ] || python -m espnet_cause.bin.emotion_labels \
            --data_dir ${datadir}/${dset} --dump_dir ${dumpdir}/${dset}
    done
    stage_done 2
fi

if [ -n "${mix_dumpdirs}" ] && [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 3 ]; then
    # Mixed training: this corpus's train/valid sets joined with the other dump dirs' (their
    # au_weight.scp kept; all-1 weights for those without) in ${dumpdir}/<set>_mix.
    mixw=(${mix_weights})
    for dset in ${train_set} ${valid_set}; do
        inputs=(--input ${dumpdir}/${dset})
        [ ${#mixw[@]} -eq 0 ] || inputs+=(--weights none)
        i=0
        for mixdir in ${mix_dumpdirs}; do
            inputs+=(--input "${mixdir}/${dset}")
            [ ${#mixw[@]} -eq 0 ] || inputs+=(--weights "${mixw[$i]:?--mix_weights needs one table (or none) per --mix_dumpdirs entry}")
            i=$((i + 1))
        done
        logged exp/mix${datatag}/${dset}.log python -m espnet_cause.bin.combine_data \
            "${inputs[@]}" --output_dir ${dumpdir}/${dset}_mix
    done
    train_set=${train_set}_mix
    valid_set=${valid_set}_mix
fi
# Per-utterance loss weights (au_weight.scp), when the training sets have them; the emotion class
# of every utterance when the model has an emotion head (model_conf.emotion_weight > 0).
emotion_weight=$(python -c 'import sys, yaml; c = yaml.safe_load(open(sys.argv[1])) or {}; print(float((c.get("model_conf") or {}).get("emotion_weight", 0)) > 0)' "${train_config}")
weight_args=()
emotion_args=()
for split in train valid; do
    dset=$([ ${split} = train ] && echo ${train_set} || echo ${valid_set})
    [ ! -s ${dumpdir}/${dset}/au_weight.scp ] || weight_args+=(
        --${split}_data_path_and_name_and_type ${dumpdir}/${dset}/au_weight.scp,au_weight,npy)
    [ "${emotion_weight}" = False ] || emotion_args+=(
        --${split}_data_path_and_name_and_type ${dumpdir}/${dset}/emotion,emotion,text_int)
done

for dset in ${train_set} ${valid_set} ${test_set}; do
    if [ "${stage}" -le 5 ] && [ "${stop_stage}" -ge 3 ] && [ -f exp/done/stage2 ] && [ ! -f ${dumpdir}/${dset}/${labels} ]; then
        echo "run.sh: ${dumpdir}/${dset}/${labels} is missing (stage 2 ran before blendshapes were kept); re-run it: ./run.sh --stage 2 --force true" >&2; exit 2
    fi
done

if run_stage 3 "feature and ${target} statistics"; then
    # The data name "au" carries the target's labels (AUs or blendshapes).
    stats_args=(--config "${train_config}"
        --train_data_path_and_name_and_type ${dumpdir}/${train_set}/wav.scp,speech,sound
        --train_data_path_and_name_and_type ${dumpdir}/${train_set}/${labels},au,kaldi_ark
        --valid_data_path_and_name_and_type ${dumpdir}/${valid_set}/wav.scp,speech,sound
        --valid_data_path_and_name_and_type ${dumpdir}/${valid_set}/${labels},au,kaldi_ark
        --train_shape_file ${dumpdir}/${train_set}/wav.scp --valid_shape_file ${dumpdir}/${valid_set}/wav.scp)
    if [ "${stats_nj}" -gt 1 ]; then
        # ESPnet's way: shards of the keys, one collect_stats job each, aggregate_stats_dirs.
        logged ${statsdir}/collect_stats.log python -m espnet_cause.bin.collect_stats \
            --nj "${stats_nj}" --parallel_config ${nj_config} --output_dir ${statsdir} "${stats_args[@]}"
    else
        logged ${statsdir}/collect_stats.log python -m espnet_cause.bin.cause_train \
            --collect_stats true --output_dir ${statsdir} "${stats_args[@]}"
    fi
    stage_done 3
fi

if run_stage 4 "CAUSE training (${train_config})"; then
    logged ${expdir}/train.log python -m espnet_cause.bin.cause_train \
        --config "${train_config}" --output_dir ${expdir} --ngpu ${ngpu} --resume true \
        --multiprocessing_distributed $([ "${ngpu}" -gt 1 ] && echo true || echo false) \
        --normalize_conf stats_file=${statsdir}/train/feats_stats.npz \
        --au_normalize_conf stats_file=${statsdir}/train/au_stats.npz \
        --train_data_path_and_name_and_type ${dumpdir}/${train_set}/wav.scp,speech,sound \
        --train_data_path_and_name_and_type ${dumpdir}/${train_set}/${labels},au,kaldi_ark \
        --valid_data_path_and_name_and_type ${dumpdir}/${valid_set}/wav.scp,speech,sound \
        --valid_data_path_and_name_and_type ${dumpdir}/${valid_set}/${labels},au,kaldi_ark \
        --train_shape_file ${statsdir}/train/speech_shape --valid_shape_file ${statsdir}/valid/speech_shape \
        "${weight_args[@]}" "${emotion_args[@]}"
    logged ${expdir}/pack.log python -m espnet_cause.bin.pack_model \
        --train_config ${expdir}/config.yaml --model_file ${expdir}/valid.loss.best.pth \
        --output ${expdir}/model.zip ${calibrate_dir:+--calibrate_dir "${calibrate_dir}"}
    stage_done 4
fi

if run_stage 5 "inference and scoring on ${test_set}"; then
    logged ${expdir}/infer_${test_set}/infer.log python -m espnet_cause.bin.infer \
        --model ${expdir}/model.zip --wav_scp ${dumpdir}/${test_set}/wav.scp \
        --output_dir ${expdir}/infer_${test_set} --output_format ark --output_fps ${au_fps} \
        --parallel_config ${nj_config}
    logged ${expdir}/score_${test_set}/score.log python -m espnet_cause.bin.score \
        --ref ${dumpdir}/${test_set}/${labels} --hyp ${expdir}/infer_${test_set}/au.scp \
        --train_ref ${dumpdir}/${train_set}/${labels} --output_dir ${expdir}/score_${test_set}
    cat ${expdir}/score_${test_set}/scores.md
    if [ "${corpus}" != mini ] && [ -s ${datadir}/${test_set}/video.scp ]; then
        # Real talking faces: the model's mouth vs the video's, next to the loudness baseline.
        logged ${expdir}/lipsync_${test_set}/lipsync.log python -m espnet_cause.bin.check_lipsync \
            --video_scp ${datadir}/${test_set}/video.scp --model ${expdir}/model.zip \
            --face_landmarker_path "${FACE_LANDMARKER}" --output_dir ${expdir}/lipsync_${test_set}
    fi
    if [ -s ${datadir}/emotion_classes ] && [ -s ${datadir}/${train_set}/emotion ]; then
        # 5b. The speech emotion recogniser (frame posteriors over 8 emotions; the corpus's
        # classes in ${datadir}/emotion_classes, the others masked), on CAUSE's features and stats.
        for dset in ${train_set} ${valid_set} ${test_set}; do
            logged ${emoexp}/labels_${dset}.log python -m espnet_cause.bin.emotion_labels \
                --data_dir ${datadir}/${dset} --dump_dir ${dumpdir}/${dset} --classes_file ${datadir}/emotion_classes
        done
        logged ${emoexp}/train.log python -m espnet_cause.bin.emotion_train \
            --config "${emotion_config}" --output_dir ${emoexp} --ngpu ${ngpu} --resume true \
            --model_conf "classes=[$(tr -s ' \n' ',' < ${datadir}/emotion_classes | sed 's/,$//')]" \
            --normalize_conf stats_file=${statsdir}/train/feats_stats.npz \
            --train_data_path_and_name_and_type ${dumpdir}/${train_set}/wav.scp,speech,sound \
            --train_data_path_and_name_and_type ${dumpdir}/${train_set}/emotion,emotion,text_int \
            --valid_data_path_and_name_and_type ${dumpdir}/${valid_set}/wav.scp,speech,sound \
            --valid_data_path_and_name_and_type ${dumpdir}/${valid_set}/emotion,emotion,text_int \
            --train_shape_file ${statsdir}/train/speech_shape --valid_shape_file ${statsdir}/valid/speech_shape
        # 5c. Its posteriors on the test set, accuracy, macro-F1 and the confusion plot.
        logged ${emoexp}/infer_${test_set}/infer.log python -m espnet_cause.bin.emotion_infer \
            --model_file ${emoexp}/valid.acc.best.pth --wav_scp ${dumpdir}/${test_set}/wav.scp \
            --output_dir ${emoexp}/infer_${test_set}
        logged ${emoexp}/score_${test_set}/score.log python -m espnet_cause.bin.emotion_score \
            --ref ${datadir}/${test_set}/emotion --hyp ${emoexp}/infer_${test_set}/utterance.tsv \
            --classes_file ${datadir}/emotion_classes --output_dir ${emoexp}/score_${test_set}
        cat ${emoexp}/score_${test_set}/scores.md
    fi
    stage_done 5
fi

if run_stage 6 "face rendering (${renderer})"; then
    # Outputs are named for the renderer that made them: demo_warp.mp4 (training-free, the one to
    # watch) and, with --renderer ganimation, demo_<gan_config name>.mp4 and <utt>_<name>.mp4
    # (ganimation_ci: 100 steps on the mini corpus, a pipeline check, not a face model).
    render_args=(--renderer warp)
    name=warp
    if [ "${renderer}" = ganimation ]; then
        # 6a. Face crops of the training videos, each paired with its AU row.
        logged ${ganexp}/prepare_faces.log python -m espnet_cause.bin.prepare_faces \
            --video_scp data/${train_set}/video.scp --au_scp dump/${train_set}/au.scp \
            --output_dir dump/faces --face_landmarker_path "${FACE_LANDMARKER}" --frame_stride 5
        # 6b. GANimation on those crops.
        logged ${ganexp}/train.log python -m espnet_cause.bin.ganimation_train \
            --config "${gan_config}" --train_dir dump/faces --output_dir ${ganexp} --resume
        render_args=(--renderer ganimation --generator ${ganexp}/generator.pth)
        name=$(basename "${gan_config}" .yaml)
    fi
    mkdir -p ${expdir}/render
    # 6c. The demo photo driven by the demo speech, with the training-free warp renderer.
    logged ${expdir}/render/demo_warp.log python -m espnet_cause.bin.render \
        --image "${FACE_IMAGE}" --wav "${DEMO_WAV}" --model ${expdir}/model.zip \
        --renderer warp --face_landmarker_path "${FACE_LANDMARKER}" \
        --output ${expdir}/render/demo_warp.mp4 --side_by_side
    # 6d. With the chosen renderer, in one call: the demo speech (unless 6c made it already) and
    # the first --num_render test utterances.
    { [ "${name}" = warp ] || echo "demo_${name} ${DEMO_WAV}"
      head -n ${num_render} dump/${test_set}/wav.scp | while read -r utt wav; do echo "${utt}_${name} ${wav}"; done
    } > ${expdir}/render/${name}.scp
    logged ${expdir}/render/render_${name}.log python -m espnet_cause.bin.render \
        --image "${FACE_IMAGE}" --wav_scp ${expdir}/render/${name}.scp \
        --model ${expdir}/model.zip "${render_args[@]}" \
        --face_landmarker_path "${FACE_LANDMARKER}" --output_dir ${expdir}/render --side_by_side
    compared=()
    if [ "${renderer}" = ganimation ] && [ -s ${emoexp}/infer_${test_set}/posteriors.scp ]; then
        # 6e. The emotion-conditioned GANimation on the same crops, labelled by their utterance.
        logged exp/ganimation_emotion/train.log python -m espnet_cause.bin.ganimation_train \
            --config "${gan_emotion_config}" --train_dir dump/faces \
            --emotion_labels dump/${train_set}/emotion --output_dir exp/ganimation_emotion --resume
        # 6f. The photo driven by the predicted AUs and by the predicted emotions, side by side,
        # and the table: re-extracted AUs vs the real video's, mouth motion and jitter.
        # Utterances with a real video first: their stage-2 AUs (tracked from that video) are the
        # reference the re-extracted AUs are correlated with.
        mkdir -p ${expdir}/compare
        touch ${expdir}/compare/video.scp
        [ ! -s data/${test_set}/video.scp ] || cp data/${test_set}/video.scp ${expdir}/compare/video.scp
        awk 'NR == FNR { v[$1] = 1; next } ($1 in v)' ${expdir}/compare/video.scp \
            dump/${test_set}/au.scp > ${expdir}/compare/ref_au.scp
        awk 'NR == FNR { v[$1] = 1; next } { print (($1 in v) ? 0 : 1), $0 }' \
            ${expdir}/compare/video.scp dump/${test_set}/wav.scp | sort -s -k1,1n | cut -d' ' -f2- \
            | awk -v n=${num_compare} 'NR <= n' > ${expdir}/compare/compare.scp
        logged ${expdir}/compare/compare.log python -m espnet_cause.bin.compare_conditions \
            --image "${FACE_IMAGE}" --wav_scp ${expdir}/compare/compare.scp \
            --au_scp ${expdir}/infer_${test_set}/au.scp \
            --emotion_scp ${emoexp}/infer_${test_set}/posteriors.scp \
            --generator ${ganexp}/generator.pth --emotion_generator exp/ganimation_emotion/generator.pth \
            --ref_au_scp ${expdir}/compare/ref_au.scp --face_landmarker_path "${FACE_LANDMARKER}" \
            --fps ${au_fps} --output_dir ${expdir}/compare
        cat ${expdir}/compare/scores.md
        compared=("${PWD}"/${expdir}/compare/*_compare.mp4)
    fi
    log "rendered videos (open them in any player; demo_warp.mp4 first, the best-looking one):"
    ls -1 "${PWD}"/${expdir}/render/demo_warp.mp4
    find "${PWD}"/${expdir}/render -maxdepth 1 -name '*.mp4' ! -name demo_warp.mp4 | sort
    [ ${#compared[@]} -eq 0 ] || ls -1 "${compared[@]}"  # AU-driven | emotion-driven
    stage_done 6
fi

if run_stage 7 "AU features for TTS/VC (fs ${tts_fs}, hop ${tts_hop})"; then
    # The mini dumps are 16 kHz (tts_fs by default); at another tts_fs they are resampled here. For
    # a real TTS corpus, point --wav_scp at its ESPnet dump (already at tts_fs) and drop --resample.
    # A model that hears emotion (expressive) hears each speaker's voices together (dump/<set>/utt2spk).
    # The voice learns from streams that show the training corpus's known moods (its labels: what
    # the recogniser hears in eSpeak's rule-made moods is not them); the test set's streams, which
    # steer it in stage 8, are heard.
    for dset in ${train_set} ${valid_set} ${test_set}; do
        labels=()
        [ "${tts_label_emotions}" != true ] || [ "${dset}" = "${test_set}" ] || [ ! -s data/${dset}/emotion ] \
            || labels=(--emotion_labels data/${dset}/emotion)
        logged exp/tts_feats/${dset}.log python -m espnet_cause.bin.export_tts_features \
            --model ${tts_au_model:-${expdir}/model.zip} --wav_scp dump/${dset}/wav.scp \
            --output_dir dump/tts_feats/${dset} --fs ${tts_fs} --hop_length ${tts_hop} \
            --resample --parallel_config ${nj_config} "${labels[@]}"
    done
    if [ -n "${tts_reference_dir}" ]; then  # real happy/sad speech that steers stage 8's voice
        logged exp/tts_feats/reference.log python -m espnet_cause.bin.export_tts_features \
            --model ${tts_au_model:-${expdir}/model.zip} --wav_scp ${tts_reference_dir}/wav.scp \
            --output_dir dump/tts_feats/reference --fs ${tts_fs} --hop_length ${tts_hop} \
            --resample --parallel_config ${nj_config}
    fi
    log "TTS features: dump/tts_feats/<set>/au.scp (frame level), au_embed.scp (spembs)"
    stage_done 7
fi
if run_stage 8 "expressive TTS: FastSpeech2 with AU (${tts_config}), happy/sad/own syntheses"; then
    [ "${corpus}" = mini ] || { echo "run.sh: stage 8 needs the mini corpus's moods (README: Expressive TTS has the commands for a real corpus)" >&2; exit 2; }
    ttsexp=exp/$(basename "${tts_config}" .yaml)
    ttsdata=dump/tts_text                    # tokens, durations, token_list, utt2mood
    ttsstats=exp/tts_stats
    grid=(--feats_extract_conf fs=${tts_fs} --feats_extract_conf hop_length=${tts_hop}
          --pitch_extract_conf fs=${tts_fs} --pitch_extract_conf hop_length=${tts_hop}
          --energy_extract_conf fs=${tts_fs} --energy_extract_conf hop_length=${tts_hop})
    for dset in ${train_set} ${valid_set} ${test_set}; do
        python -c 'import sys, yaml; g = yaml.safe_load(open(sys.argv[1])); sys.exit(g["fs"] != int(sys.argv[2]) or g["hop_length"] != int(sys.argv[3]))' \
            dump/tts_feats/${dset}/grid.yaml ${tts_fs} ${tts_hop} 2>/dev/null \
            || { echo "run.sh: dump/tts_feats/${dset} is not on the ${tts_fs} Hz / ${tts_hop} grid; run stage 7 first: ./run.sh --stage 7 --stop-stage 7 --force true" >&2; exit 2; }
        # 8a. eSpeak's phonemes (stage 1's phones.ctm) -> tokens and frames per token on the grid
        logged ${ttsdata}/${dset}/make_durations.log python -m espnet_cause.bin.make_durations \
            --ctm data/${dset}/phones.ctm --wav_scp dump/${dset}/wav.scp --fs ${tts_fs} \
            --hop_length ${tts_hop} --output_dir ${ttsdata}/${dset} \
            $([ "${dset}" = "${train_set}" ] && echo --write_token_list)
    done
    # metadata.tsv: emotion (column 7) and its strength (8) -> -1 sad .. 1 happy (others 0)
    awk -F'\t' 'NR > 1 {print $1, ($7 == "happy") ? $8 : ($7 == "sad") ? -$8 : 0}' \
        "${MINI}/metadata.tsv" | LC_ALL=C sort > ${ttsdata}/utt2mood
    data_args() {  # data_args SPLIT NAME...: ESPnet data options of a split
        local split=$1 set=$2; shift 2
        for name in "$@"; do case ${name} in
            text) echo "--${split}_data_path_and_name_and_type ${ttsdata}/${set}/text,text,text" ;;
            speech) echo "--${split}_data_path_and_name_and_type dump/${set}/wav.scp,speech,sound" ;;
            durations) echo "--${split}_data_path_and_name_and_type ${ttsdata}/${set}/durations,durations,text_int" ;;
            au) echo "--${split}_data_path_and_name_and_type dump/tts_feats/${set}/au.scp,au,kaldi_ark" ;;
            spembs) echo "--${split}_data_path_and_name_and_type dump/tts_feats/${set}/au_embed.scp,spembs,kaldi_ark" ;;
            pitch|energy) echo "--${split}_data_path_and_name_and_type ${ttsstats}/${set}/collect_feats/${name}.scp,${name},npy" ;;
        esac; done
    }
    # 8b. Feature, pitch, energy and AU statistics; pitch and energy are kept (collect_feats), so
    # training reads them instead of running the pitch tracker at every step.
    logged ${ttsstats}/collect_stats.log python -m espnet_cause.bin.au_tts_train \
        --collect_stats true --write_collected_feats true --config "${tts_config}" "${grid[@]}" \
        --output_dir ${ttsstats} --token_list ${ttsdata}/${train_set}/token_list --ngpu 0 \
        --normalize none --pitch_normalize none --energy_normalize none --au_normalize none \
        $(data_args train ${train_set} text speech durations au) \
        $(data_args valid ${valid_set} text speech durations au) \
        --train_shape_file dump/${train_set}/wav.scp --valid_shape_file dump/${valid_set}/wav.scp
    # 8c. Utterances whose pitch tracker found no voiced frame are left out of training.
    logged ${ttsstats}/voiced_subset.log python -m espnet_cause.bin.tts_voiced_subset --stats_dir ${ttsstats}
    # 8d. The AU model, the AU-spembs model and the no-AU control, side by side (one thread each).
    train_tts() {  # train_tts CONFIG EXPDIR DATA...
        local config=$1 dir=$2; shift 2
        mkdir -p "${dir}"
        OMP_NUM_THREADS=1 python -m espnet_cause.bin.au_tts_train --config "${config}" "${grid[@]}" \
            --output_dir "${dir}" --token_list ${ttsdata}/${train_set}/token_list --ngpu 0 --resume true \
            --use_tensorboard false \
            --normalize_conf stats_file=${ttsstats}/${train_set}/feats_stats.npz \
            --pitch_normalize_conf stats_file=${ttsstats}/${train_set}/voiced/pitch_stats.npz \
            --energy_normalize_conf stats_file=${ttsstats}/${train_set}/energy_stats.npz \
            $(data_args train ${train_set} text speech durations pitch energy "$@") \
            $(data_args valid ${valid_set} text speech durations pitch energy "$@") \
            --train_shape_file ${ttsstats}/${train_set}/voiced/text_shape \
            --train_shape_file ${ttsstats}/${train_set}/voiced/speech_shape \
            --valid_shape_file ${ttsstats}/${valid_set}/voiced/text_shape \
            --valid_shape_file ${ttsstats}/${valid_set}/voiced/speech_shape \
            $([ "${1:-}" = au ] && echo --au_normalize_conf stats_file=${ttsstats}/${train_set}/au_stats.npz) \
            > "${dir}/train.log" 2>&1 || { tail -n 20 "${dir}/train.log" >&2; return 1; }
    }
    spembsexp=; [ -z "${tts_spembs_config}" ] || spembsexp=exp/$(basename "${tts_spembs_config}" .yaml)
    controlexp=exp/$(basename "${tts_control_config}" .yaml)
    log "training ${ttsexp}, ${controlexp}${spembsexp:+, ${spembsexp}} (logs: <dir>/train.log)"
    pids=()
    train_tts "${tts_config}" ${ttsexp} au & pids+=($!)
    train_tts "${tts_control_config}" ${controlexp} & pids+=($!)
    [ -z "${spembsexp}" ] || { train_tts "${tts_spembs_config}" ${spembsexp} spembs & pids+=($!); }
    for pid in "${pids[@]}"; do wait "${pid}"; done
    # 8e. Fixed sentences with a happy and a sad test utterance's AU stream (and speech), measured
    # next to the corpus's own happy and sad utterances.
    logged ${ttsexp}/synth/synth.log python -m espnet_cause.bin.tts_expressivity \
        --tts_dir ${ttsexp} --control_tts_dir ${controlexp} ${spembsexp:+--spembs_tts_dir ${spembsexp}} \
        --au_scp dump/tts_feats/${test_set}/au.scp --wav_scp dump/${test_set}/wav.scp \
        --model ${tts_au_model:-${expdir}/model.zip} --utt2mood ${ttsdata}/utt2mood \
        --corpus_wav_scp dump/${train_set}/wav.scp --corpus_ctm data/${train_set}/phones.ctm \
        --output_dir ${ttsexp}/synth
    log "expressive TTS: ${ttsexp}/synth/table.md, wavs in ${ttsexp}/synth/<model>/<condition>/"
    if [ -n "${tts_reference_dir}" ]; then
        # 8f. The same voice steered by the AU streams of real happy vs sad speech (every one used)
        [ -s dump/tts_feats/reference/au.scp ] || { echo "run.sh: dump/tts_feats/reference/au.scp is missing; run stage 7 with --tts_reference_dir ${tts_reference_dir}" >&2; exit 2; }
        nref=$(awk '$2 == "happy" {h++} $2 == "sad" {s++} END {print (h > s ? h : s) + 0}' ${tts_reference_dir}/emotion)
        logged ${ttsexp}/synth_reference/synth.log python -m espnet_cause.bin.tts_expressivity \
            --tts_dir ${ttsexp} --control_tts_dir ${controlexp} \
            --au_scp dump/tts_feats/reference/au.scp --wav_scp ${tts_reference_dir}/wav.scp \
            --reference_emotion ${tts_reference_dir}/emotion --num_syntheses ${nref} \
            --model ${tts_au_model:-${expdir}/model.zip} --utt2mood ${ttsdata}/utt2mood \
            --corpus_wav_scp dump/${train_set}/wav.scp --corpus_ctm data/${train_set}/phones.ctm \
            --output_dir ${ttsexp}/synth_reference
        log "steered by ${tts_reference_dir}'s happy vs sad speech: ${ttsexp}/synth_reference/table.md"
    fi
    stage_done 8
fi
log "done (stages ${stage}-${stop_stage})"
