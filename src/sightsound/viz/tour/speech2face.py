"""The tour's Speech2Face section: voices of held-out synthetic speakers, the faces drawn from them and the true
faces; real people's drawn and true faces with the rank of the true one; the measured numbers."""

from __future__ import annotations

import html

import torch

from sightsound.viz.tour.page import (
    Section,
    TourContext,
    missing_model,
    number,
    paragraphs,
)

SHOWN = (9, 19, 29, 39, 49, 59, 69, 79)   # held-out (test) speakers of world 0: i % 10 == 9


def _synthetic_table(report: dict) -> str:
    r = report["retrieval"]
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{'voice and face' if name in report['voice_attributes'] else 'face only'}"
        f"</td><td>{number(c['drawn_from_voice'], 3)}</td><td>{number(c['decoded_from_photo'], 3)}</td>"
        f"<td>{number(c['judge_on_true_faces'], 3)}</td></tr>"
        for name, c in report["attribute_correlation"].items())
    table = ("<table><tr><th>attribute</th><th>sets</th><th>drawn from the voice</th><th>decoded from a photo</th>"
             f"<th>judge on the true face</th></tr>{rows}</table>")
    return paragraphs(
        f"On the {report['test_speakers']} held-out speakers ({report['queries']} voice clips the model never "
        f"heard): voice &rarr; face retrieval among {r['candidates']} faces, recall@1 {number(r['r1'], 3)} "
        f"(chance {number(r['chance_r1'], 2)}), recall@5 {number(r['r5'], 3)} (chance {number(r['chance_r5'], 2)}). A judge, a small CNN trained on the training speakers' true "
        "faces only, reads each attribute off a face; the Pearson correlation between what it reads off the drawn "
        "faces and the true values:") + table


def _real_text(report: dict) -> str:
    text = (f"Real people ({report['identities']} identities: the talking-face clips of <code>av-speakers/</code> "
            f"and GRID s1): the true face's mean rank among all {report['identities']} faces is "
            f"{number(report['mean_rank'], 2)}, against {number(report['chance_mean_rank'], 1)} for a random order "
            f"(standard error of a random mean &plusmn;{number(report['chance_mean_rank_sd'], 1)}); recall@1 "
            f"{number(report['r1'], 3)} (chance {number(report['chance_r1'], 3)}).")
    if "gender" in report:
        g = report["gender"]
        text += (f" Gender, from the brows and jaw drawn for each voice (the world ties a high voice to thin brows "
                 f"and a round jaw): ROC AUC {number(g['auc_woman_from_drawn_pitch'], 3)} for the {g['women']} women "
                 f"among {g['labelled']} people labelled by eye (0.5 is chance).")
    return paragraphs(text)


def section_speech2face(ctx: TourContext) -> Section:
    anchor, title = "speech2face", "14. Speech2Face: a face from a voice"
    if ctx.speech2face is None:
        return missing_model(anchor, title, "Speech2Face model (speech2face-voices)", "speech2face")
    from sightsound.data import speaker_world as world
    from sightsound.data.speech2face import resize_face
    from sightsound.viz.speech2face import rank_histogram_figure, voice_face_rows_figure

    pipeline, report = ctx.speech2face
    report = report or {}
    body = paragraphs(
        "Speech2Face (Oh et al., 2019) listens to a few seconds of speech and draws the face it suggests: a voice "
        "encoder predicts a face feature, and a face decoder draws a frontal, neutral face from it. The paper "
        "trained on a million YouTube clips; no such corpus (and no pretrained face network) is here, so the "
        "method is measured where the answer is known: a synthetic world of 600 speakers whose hidden "
        f"attributes set both the voice and the face by documented rules ({html.escape(world.attribute_rules())}), "
        "with hair, eye spacing and background the voice cannot know. The face encoder is trained here by identity "
        "classification (as VGG-Face was) on the world's training faces and the 40 ORL people; the voice encoder "
        "reads the lecture's log-mel (25 ms Hamming window, 10 ms hop) and is trained with the paper's loss.")
    size = pipeline.face_size
    speakers = [world.speaker(i, 0) for i in SHOWN]
    waves = [torch.from_numpy(world.speak(s, 0)[0]) for s in speakers]
    drawn = pipeline.draw(pipeline.voice_features(waves))
    true = torch.stack([resize_face(world.draw_face(s), size) for s in speakers])
    for k in range(2):
        phys = speakers[k].physical()
        body += ctx.sound(waves[k], f"s2f_voice_{k}.wav",
                          f"{speakers[k].id} (held out): F0 {phys['f0_hz']:.0f} Hz, tract {phys['tract_cm']:.1f} cm, "
                          f"{phys['rate_sps']:.1f} syllables/s", pipeline.sample_rate)
    body += ctx.figure(voice_face_rows_figure(drawn, true, [s.id for s in speakers]), "s2f_world.png",
                       "Faces drawn from the voices of eight held-out synthetic speakers above their true canonical "
                       "faces.")
    synthetic = report.get("synthetic")
    if synthetic:
        body += _synthetic_table(synthetic)
    real = report.get("real")
    if real:
        if ctx.av_speakers is not None:
            from sightsound.data.speech2face import real_pairs

            pairs = real_pairs(ctx.av_speakers, size, pipeline.sample_rate)[:8]
            if pairs:
                rank = dict(zip(real["names"], real["ranks"]))
                faces = torch.stack([p[1] for p in pairs])
                drawn_real = pipeline.draw(pipeline.voice_features([p[2] / p[2].abs().max() for p in pairs]))
                labels = [f"{p[0][:14]}\nrank {rank.get(p[0], '?')}" for p in pairs]
                body += ctx.figure(voice_face_rows_figure(drawn_real, faces, labels, bottom="the real face"),
                                   "s2f_real.png", "Faces drawn from real people's voices above their real faces, "
                                                   "with the rank of the true face.")
        body += _real_text(real)
        body += ctx.figure(rank_histogram_figure(real["ranks"], real["identities"], "real people"),
                           "s2f_ranks.png", "Histogram of the rank of each real voice's true face.")
    n = real["identities"] if real else 22
    spread = real["chance_mean_rank_sd"] if real else 1.4
    body += paragraphs(
        f"What about {n} real people can and cannot show: with one clip per person, each rank is a single draw, and "
        f"the mean rank of {n} random guesses already wanders by about &plusmn;{spread} around {(n + 1) / 2}; and a "
        "voice encoder trained only on synthetic voices has never heard a human voice paired with a human face. So "
        "the real-people numbers test whether the world's rules transfer at all (pitch to brows and jaw is the one "
        "that could), not how well Speech2Face works on people: that needs thousands of identities.")
    return Section(anchor, title, body)


SECTIONS = [section_speech2face]
