"""The tour's attention chapter: self-attention maps of the shipped character GPT, a sample, and the GPT-1 heads."""

from __future__ import annotations

import html

import torch

from sightsound.viz import plots
from sightsound.viz.tour.page import Section, TourContext, missing_model, paragraphs

ATTENTION_PROMPT = "ROMEO: But soft, what light"  # short enough to label every character on both axes


def section_self_attention(ctx: TourContext) -> Section:
    anchor, title = "attention", "7. Self-attention and multi-head attention"
    if ctx.char_lm is None:
        return missing_model(anchor, title, "character GPT", "char_lm")
    model, vocab = ctx.char_lm
    prompt = ATTENTION_PROMPT[-model.config.block_size:]
    ids = vocab.encode(prompt).unsqueeze(0)
    with torch.no_grad():
        _, weights, _ = model(ids, need_weights=True)
    tokens = [vocab.decode([i]) for i in ids[0]]
    c = model.config
    body = paragraphs(
        "Attention lets every position look at every other and take what it needs: each token emits a query, "
        "a key and a value; softmax(QK<sup>T</sup>/&radic;d<sub>k</sub>) says how much each query takes from "
        "each value. A causal mask keeps a language model from looking ahead. Several heads run side by side, "
        "each with its own projections, so that they can attend to different things.",
        f"Below: every layer ({c.n_layer}) and head ({c.n_head}) of the shipped character GPT reading "
        f"<code>{html.escape(prompt)}</code> — row = the character that attends, column = the character attended "
        "to (both axes labelled; the upper triangle is empty because of the causal mask). "
        "Code: <code>sightsound attention-map --model char-lm-shakespeare --prompt TEXT -o map.png</code>",
    ) + ctx.figure(plots.attention_grid_figure([w[0] for w in weights], tokens), "attention_map.png",
                   f"Attention weights of {c.n_layer} layers by {c.n_head} heads for the {len(tokens)} characters of "
                   f"'{prompt}', each character labelled on both axes.")
    return Section(anchor, title, body)


def section_gpt(ctx: TourContext) -> Section:
    anchor, title = "gpt", "8. GPT: a transformer language model and its fine-tuning heads"
    if ctx.char_lm is None:
        return missing_model(anchor, title, "character GPT", "char_lm")
    model, vocab = ctx.char_lm
    c = model.config
    prompt = "ROMEO:\n"
    out = model.generate(vocab.encode(prompt).unsqueeze(0), 300, temperature=0.8, top_k=20,
                         generator=torch.Generator().manual_seed(0))
    sample = vocab.decode(out[0])
    n_params = sum(p.numel() for p in model.parameters())
    body = paragraphs(
        f"Stack transformer blocks (attention, skip connection, layer norm, feed-forward) and train them to predict "
        f"the next character: that is GPT. The shipped model has {c.n_layer} blocks, {c.n_head} heads, "
        f"{c.n_embd} dimensions and a {c.block_size}-character context ({n_params / 1e6:.2f} M parameters), "
        "trained on tinyshakespeare on a 2-core CPU. A sample (temperature 0.8, top-k 20, seed 0), generated now "
        "with the KV cache:",
    ) + f"<pre>{html.escape(sample)}</pre>"
    if ctx.finetune:
        rows = "".join(
            f"<tr><td>{html.escape(task.replace('_', ' '))}</td><td>{t['chance']:.2f}</td>"
            f"<td>{t['pretrained']['final_val_accuracy']:.3f}</td><td>{t['scratch']['final_val_accuracy']:.3f}</td></tr>"
            for task, t in ctx.finetune["tasks"].items())
        body += paragraphs(
            "GPT-1's point: one pre-trained body serves many tasks through a linear layer on the final state of an "
            "<i>extract</i> token — classification (which play a speech is from), similarity (are two text "
            "fragments consecutive, reading both orders), multiple choice (the true continuation of a fragment "
            "among four). Accuracy on each task's validation examples after the last fine-tuning step, measured by "
            f"<code>{html.escape(ctx.finetune.get('command', 'benchmarks/gpt_finetune.py'))}</code>:") + (
            "<table><tr><th>task</th><th>chance</th><th>fine-tuned from the GPT</th><th>same model from scratch</th></tr>"
            f"{rows}</table>")
    return Section(anchor, title, body)


SECTIONS = [section_self_attention, section_gpt]
