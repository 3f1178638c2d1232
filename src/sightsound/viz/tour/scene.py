"""The tour's audio-visual chapter: scene recognition by sound (sounds and photos in one embedding space)."""

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

SHOWN = ("dog_bark", "sea_waves", "rooster")  # clips played in the tour (one of each, the first by name)


def _cv_table(cv: dict) -> str:
    head = "<tr><th>held-out fold</th><th>clips</th><th>AV embedding</th><th>supervised log-mel CNN</th>" \
           "<th>MFCC + logistic regression</th></tr>"
    rows = "".join(f"<tr><td>{r['test_fold']}</td><td>{r['clips']}</td><td>{number(r['embedding'], 3)}</td>"
                   f"<td>{number(r['supervised_cnn'], 3)}</td><td>{number(r['mfcc_logistic'], 3)}</td></tr>"
                   for r in cv["rounds"])
    m = cv["mean_accuracy"]
    rows += (f"<tr><th>mean</th><td></td><th>{number(m['embedding'], 3)}</th><th>{number(m['supervised_cnn'], 3)}"
             f"</th><th>{number(m['mfcc_logistic'], 3)}</th></tr>")
    return f"<table>{head}{rows}</table>"


def _retrieval_text(report: dict) -> str:
    parts = []
    s2p = report.get("sound_to_photo") or (report.get("cross_validation") or {}).get("sound_to_photo")
    if s2p and s2p.get("per_class"):
        cells = ", ".join(f"{html.escape(c.replace('_', ' '))} {number(v['precision_at_k'])} (chance "
                          f"{number(v['chance'])})" for c, v in s2p["per_class"].items())
        parts.append(f"Sound &rarr; photo, precision@{s2p['k']} among the {s2p['photos']} validation photos, for the "
                     f"classes with at least {s2p['min_photos']} photos whose captions name them, each clip scored "
                     f"by the model that never heard its fold: {cells}.")
    spoken = report.get("spoken_captions")
    if spoken:
        r, c = spoken["speech_to_photo"], spoken["chance"]
        parts.append(f"Spoken caption &rarr; photo ({spoken['photos']} validation photos; the caption is heard by "
                     f"pocketsphinx, word error rate {number(spoken['transcript_wer'])}, then embedded by MiniLM): "
                     f"R@1 {number(r['r1'])}, R@5 {number(r['r5'])}, R@10 {number(r['r10'])} against chance "
                     f"{number(c['r1'])} / {number(c['r5'])} / {number(c['r10'])}.")
    return paragraphs(*parts) if parts else ""


def section_scene(ctx: TourContext) -> Section:
    anchor, title = "scene-by-sound", "13. Scene recognition by sound"
    if ctx.scene is None:
        return missing_model(anchor, title, "audio-visual embedding (av-esc10)", "av_embedding_esc10")
    from sightsound.data.av_scenes import MATCH_WORDS, caption_words, validation_photos
    from sightsound.data.esc import read_esc_folder
    from sightsound.vision.io import load_image
    from sightsound.viz.scene import (
        confusion_figure,
        embedding_map_figure,
        hearing_figure,
        pca_2d,
    )

    listener, report = ctx.scene
    report = report or {}
    body = paragraphs(
        "What a sound means can be learnt from what co-occurs with it in pictures (SoundNet; Look, Listen and "
        "Learn). Our sounds (ESC-10: dog barks, rain, sea waves, crying babies...) and our photos (Flickr8k) were "
        "never recorded together, so they are tied the way audio-image-text models tie unpaired data: through "
        "a third, frozen space of sentence meanings (MiniLM). A sound encoder (the lecture's log-mel front-end, "
        "25 ms Hamming window every 10 ms, read by ImageNet EfficientNet-Lite0 blocks and a trained projection) "
        "is pulled towards the sentence of its class (\"a dog barking\"); a photo encoder towards the sentences "
        "people wrote about the photo. Both use InfoNCE with a learnt temperature. A sound then recognises its "
        "scene (the nearest class sentence) and finds photos (the nearest photos) in the same space.")
    photos_html, names, photo_emb, photo_labels = "", [], None, []
    if ctx.flickr is not None:
        images, names, captions = validation_photos(ctx.flickr)
        photo_emb = listener.embed_photos([images / n for n in names], progress=False)
        for n in names:
            words = set().union(*(caption_words(c) for c in captions[n]))
            photo_labels.append(next((cls for cls, w in MATCH_WORDS.items() if cls in listener.class_names
                                      and words & set(w)), None))
    if ctx.esc is not None:
        clips, _ = read_esc_folder(ctx.esc)
        chosen = [next(c for c in sorted(clips, key=lambda c: c.path.name) if c.category == name)
                  for name in SHOWN if any(c.category == name for c in clips)]
        for k, clip in enumerate(chosen):
            wave = listener.load_clip(clip.path)
            result = listener.hear(clip.path, [images / n for n in names] if names else None, top=4,
                                   photo_embeddings=photo_emb)
            strip = [(load_image(p, max_side=256), "", s) for p, s in result.photos]
            seen = "in its training folds" if clip.fold in listener.model.config.train_folds else "never heard"
            photos_html += ctx.sound(wave, f"scene_{k}.wav", f"{clip.path.name} ({clip.category.replace('_', ' ')}, "
                                                             f"fold {clip.fold}: {seen})", listener.sample_rate)
            photos_html += ctx.figure(
                hearing_figure(listener.model.sound.picture(wave[None])[0], wave.shape[-1] / listener.sample_rate,
                               result.probabilities, strip,
                               f"heard: {result.label.replace('_', ' ')} ({result.probabilities[result.label]:.2f})"),
                f"scene_{k}.jpg", f"Log-mel of the {clip.category} clip, the model's class probabilities "
                                  f"(top: {result.label}) and the validation photos nearest the sound.")
        sample = [c for name in listener.class_names for c in [x for x in clips if x.category == name][:6]]
        sounds = listener.embed_waves([listener.load_clip(c.path) for c in sample])
        points = [sounds, listener.model.class_anchors]
        labels = [c.category for c in sample] + list(listener.class_names)
        kinds = ["sound"] * len(sample) + ["anchor"] * len(listener.class_names)
        if photo_emb is not None:
            keep = [i for i, lab in enumerate(photo_labels) if lab is not None]
            points.append(photo_emb[keep])
            labels += [photo_labels[i] for i in keep]
            kinds += ["photo"] * len(keep)
        xy = pca_2d(torch.cat(points))
        photos_html += paragraphs(
            f"The shared space, flattened to its two main directions (PCA): {len(sample)} clips (six per class), "
            "the ten class sentences, and the validation photos whose captions name a class, coloured by class. "
            "Sounds gather in groups by class, near or around their sentence; the photos form a cloud of their own "
            "in the middle (they were pulled towards many different captions, not ten sentences), so two dimensions "
            "do not show which photos a sound finds: the precision@10 below measures that.")
        photos_html += ctx.figure(embedding_map_figure(xy, labels, kinds, "sounds, photos and class sentences (PCA)"),
                                  "scene_map.png", "A two-dimensional PCA map of sound, photo and class-sentence "
                                                   "embeddings, coloured by class.")
    else:
        photos_html = paragraphs("Run the tour with <code>--data</code> (a folder holding <code>esc10/</code>) to "
                                 "hear ESC-10 clips and see what the model makes of them.")
    body += photos_html
    cv = report.get("cross_validation")
    if cv:
        body += paragraphs(
            f"Accuracy over ESC-10's official folds {', '.join(map(str, cv['folds']))}: each fold scored by models "
            "that never heard it (checkpoints chosen on held-apart recordings of the other folds), beside two "
            "baselines trained on exactly the same folds (<code>scripts/scene_cv.py</code>; the ESC paper's "
            "MFCC baseline reached 72.7 %, human listeners 95.7 %):") + _cv_table(cv)
        body += ctx.figure(confusion_figure(cv["embedding_confusion"], cv["classes"],
                                            "AV embedding, the four held-out folds pooled"),
                           "scene_confusion.png", "Confusion matrix of the audio-visual embedding over the four "
                                                  "held-out folds.")
    body += _retrieval_text(report)
    return Section(anchor, title, body)


SECTIONS = [section_scene]
