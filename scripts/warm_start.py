"""Step 2 of the warm start: supervised fine-tuning of the embedded default (public/models/tiny/) in PyTorch.

    npx tsx scripts/make_tiny_default.ts          # tokenizer and config.json
    npx tsx scripts/warm_start_data.ts            # out/warm-start/sft-data.json (SFT targets, tokenized)
    nice -n 5 /usr/bin/python3 scripts/warm_start.py   # weights + tests/fixtures/tiny-default/expected.json

From a seeded Hugging Face init (normal(0, 0.02)), token-mean cross-entropy on the target tokens only,
AdamW, warm-up then a constant learning rate, on one CPU thread so that the same seed gives the same weights
bit for bit (the SHA-256 of the weights is printed and stored in the fixture). Stopped on purpose after 5,800
samples: the default should be partially competent, so GRPO has room to climb. Every EVAL_EVERY steps it
reports, on the studio's first train prompts, the greedy binary reward, measured as the TS reward does it
(think tags present and the last <tool_call> block's calls equal the ground truth).
The fixture holds the first studio prompt + target as token ids and the reference forward's
(make_fixtures.forward) logits on its last tokens, which tests/model/tiny-default.test.ts compares with the
engine's on the shipped weights.
"""

import hashlib
import json
import math
import os
import re
import struct
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as ref  # noqa: E402  (the independent single-sequence forward and the safetensors writer)

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODEL_DIR = os.path.join(ROOT, "public", "models", "tiny")
DATA = os.path.join(ROOT, "out", "warm-start", "sft-data.json")
FIXTURE_DIR = os.path.join(ROOT, "tests", "fixtures", "tiny-default")

SEED = 8
STEPS = 725
BATCH = 8
LR = 4e-3
WARMUP = 20
WEIGHT_DECAY = 0.01
CLIP = 1.0
EVAL_EVERY = 25
EVAL_PROMPTS = 32
MAX_NEW_TOKENS = 96
FIXTURE_WINDOW = 48
FIXTURE_ROWS = 8


# ------------------------------------------------------------------------------------------------------
# The batched model: the same Qwen2 forward as make_fixtures.forward, over [B, T] right-padded batches.

def rope_tables(start, T, hd, theta):
    inv_freq = 1.0 / (theta ** (torch.arange(0, hd, 2, dtype=torch.float64) / hd))
    angles = torch.outer(torch.arange(start, start + T, dtype=torch.float64), inv_freq)
    angles = torch.cat((angles, angles), dim=-1)
    return angles.cos().float(), angles.sin().float()


def hidden_states(p, cfg, ids, cache=None):
    """ids [B, T] -> final-norm hidden states [B, T, d]. Causal, so right padding never reaches real tokens.
    With a cache (a list, one (k, v) per layer, empty at first) the ids continue the cached positions."""
    B, T = ids.shape
    d, H, Hkv = cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd, eps = d // H, cfg["rms_norm_eps"]
    start = cache[0][0].shape[2] if cache else 0
    cos, sin = rope_tables(start, T, hd, cfg["rope_theta"])
    causal = torch.triu(torch.ones(T, start + T, dtype=torch.bool), diagonal=start + 1)
    x = p["model.embed_tokens.weight"][ids]
    for i in range(cfg["num_hidden_layers"]):
        pre = f"model.layers.{i}"
        a = f"{pre}.self_attn"
        h = ref.rms_norm(x, p[f"{pre}.input_layernorm.weight"], eps)
        q = (h @ p[f"{a}.q_proj.weight"].T + p[f"{a}.q_proj.bias"]).view(B, T, H, hd).transpose(1, 2)
        k = (h @ p[f"{a}.k_proj.weight"].T + p[f"{a}.k_proj.bias"]).view(B, T, Hkv, hd).transpose(1, 2)
        v = (h @ p[f"{a}.v_proj.weight"].T + p[f"{a}.v_proj.bias"]).view(B, T, Hkv, hd).transpose(1, 2)
        q, k = q * cos + ref.rotate_half(q) * sin, k * cos + ref.rotate_half(k) * sin
        if cache is not None:
            if len(cache) > i:
                k, v = torch.cat((cache[i][0], k), dim=2), torch.cat((cache[i][1], v), dim=2)
                cache[i] = (k, v)
            else:
                cache.append((k, v))
        k, v = k.repeat_interleave(H // Hkv, dim=1), v.repeat_interleave(H // Hkv, dim=1)
        scores = (q @ k.transpose(2, 3)) / math.sqrt(hd)
        out = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1) @ v
        x = x + out.transpose(1, 2).reshape(B, T, H * hd) @ p[f"{a}.o_proj.weight"].T
        x = x + ref.mlp(ref.rms_norm(x, p[f"{pre}.post_attention_layernorm.weight"], eps), p, f"{pre}.mlp")
    return ref.rms_norm(x, p["model.norm.weight"], eps)


def init_params(cfg, gen):
    """Hugging Face's init: normal(0, 0.02) matrices and embeddings, zero biases, unit norm weights."""
    params = {}
    for name, shape in ref.tensor_shapes(cfg).items():
        if name.endswith("norm.weight"):
            t = torch.ones(shape)
        elif name.endswith(".bias"):
            t = torch.zeros(shape)
        else:
            t = 0.02 * torch.randn(shape, generator=gen)
        params[name] = t.requires_grad_()
    return params


# ------------------------------------------------------------------------------------------------------
# Batches: similar lengths together (less padding), in a seeded order.

def make_batches(samples, gen):
    order = torch.randperm(len(samples), generator=gen).tolist()
    chunks = [order[i:i + BATCH * 8] for i in range(0, len(order), BATCH * 8)]
    batches = []
    for chunk in chunks:
        chunk.sort(key=lambda i: len(samples[i]["prompt"]) + len(samples[i]["target"]))
        batches += [chunk[i:i + BATCH] for i in range(0, len(chunk), BATCH)]
    perm = torch.randperm(len(batches), generator=gen).tolist()
    return [batches[i] for i in perm]


def collate(samples, idx):
    """Right-padded ids, and for every target token its (row, position predicting it) and id."""
    seqs = [samples[i]["prompt"] + samples[i]["target"] for i in idx]
    T = max(len(s) for s in seqs)
    ids = torch.zeros(len(seqs), T, dtype=torch.long)
    rows, cols, labels = [], [], []
    for b, i in enumerate(idx):
        s, P, C = seqs[b], len(samples[i]["prompt"]), len(samples[i]["target"])
        ids[b, :len(s)] = torch.tensor(s)
        rows += [b] * C
        cols += list(range(P - 1, P - 1 + C))
        labels += samples[i]["target"]
    return ids, torch.tensor(rows), torch.tensor(cols), torch.tensor(labels)


def sft_loss(p, cfg, samples, idx):
    ids, rows, cols, labels = collate(samples, idx)
    h = hidden_states(p, cfg, ids)[rows, cols]  # only the target positions reach the LM head
    logits = h @ p["model.embed_tokens.weight"].T
    return torch.nn.functional.cross_entropy(logits, labels), (logits.argmax(-1) == labels).float().mean()


# ------------------------------------------------------------------------------------------------------
# Greedy decoding and the binary reward, for the progress report.

@torch.no_grad()
def greedy(p, cfg, prompt, eos):
    """Greedy completion with a KV cache."""
    cache, out, nxt = [], [], list(prompt)
    for _ in range(MAX_NEW_TOKENS):
        h = hidden_states(p, cfg, torch.tensor([nxt]), cache)[0, -1]
        nxt = [int((h @ p["model.embed_tokens.weight"].T).argmax())]
        out += nxt
        if nxt[0] == eos:
            break
    return out


TOOL_CALL = re.compile(r"<tool_call>([\s\S]*?)</tool_call>")


def calls_of(text):
    """The last <tool_call> block's calls as a sorted list of canonical strings, or None when malformed."""
    blocks = TOOL_CALL.findall(text)
    if not blocks:
        return None
    try:
        value = json.loads(blocks[-1].strip())
    except ValueError:
        return None
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list) or not all(isinstance(c, dict) and "name" in c and "arguments" in c for c in items):
        return None
    return sorted(json.dumps([c["name"], c["arguments"]], sort_keys=True) for c in items)


def binary_reward(text, target_text):
    think = "<think>" in text and "</think>" in text
    got = calls_of(text)
    return (1.0 if think and got is not None and got == calls_of(target_text) else 0.0), got is not None and think


def evaluate(p, cfg, data):
    vocab, eos = data["vocab"], data["eos"]
    rewards, formats = [], []
    for s in data["probe"][:EVAL_PROMPTS]:
        text = "".join(vocab[t] for t in greedy(p, cfg, s["prompt"], eos))
        r, f = binary_reward(text, "".join(vocab[t] for t in s["target"]))
        rewards.append(r)
        formats.append(f)
    return sum(rewards) / len(rewards), sum(formats) / len(formats), text


# ------------------------------------------------------------------------------------------------------

def lr_at(step):
    """Linear warm-up then constant: the weights after step k do not depend on STEPS."""
    return LR * min(1.0, (step + 1) / WARMUP)


def weights_sha256(params):
    h = hashlib.sha256()
    for name in sorted(params):
        h.update(name.encode())
        h.update(bytes(params[name].detach().contiguous().view(torch.uint8).numpy()))
    return h.hexdigest()


def write_fixture(params, cfg, sample, digest):
    """The first studio prompt + its target (ids), and the reference forward's logits on that sequence's last
    FIXTURE_WINDOW tokens (its last FIXTURE_ROWS rows: the target's end), which the engine must reproduce."""
    ids = sample["prompt"] + sample["target"]
    window = ids[-FIXTURE_WINDOW:]
    with torch.no_grad():
        want = ref.forward(params, cfg, window)
        got = hidden_states(params, cfg, torch.tensor([window]))[0] @ params["model.embed_tokens.weight"].T
    # The batched training model is the reference model.
    assert (got - want).abs().max().item() <= 1e-4 * want.abs().max().item(), "batched forward differs"
    os.makedirs(FIXTURE_DIR, exist_ok=True)
    fixture = {"sha256": digest, "ids": ids, "window": FIXTURE_WINDOW, "rows": FIXTURE_ROWS,
               "logits": [[ref.round7(v) for v in row] for row in want[-FIXTURE_ROWS:].tolist()]}
    with open(os.path.join(FIXTURE_DIR, "expected.json"), "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")


def read_safetensors(path):
    """The F32 tensors of a file this script wrote (out/warm-start/step-N.safetensors)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        assert e["dtype"] == "F32", name
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(e["shape"])
    return out


def ship(tensors, cfg, data):
    """Writes the embedded default's weights and the engine's fixture; returns the weights' hash."""
    digest = weights_sha256(tensors)
    ref.write_safetensors(os.path.join(MODEL_DIR, "model.safetensors"), tensors, {"format": "pt", "sha256": digest})
    write_fixture(tensors, cfg, data["probe"][0], digest)
    return digest


def main():
    global STEPS, EVAL_EVERY
    with open(os.path.join(MODEL_DIR, "config.json")) as f:
        cfg = json.load(f)
    with open(DATA) as f:
        data = json.load(f)
    # --ship N: ship the checkpoint a full run saved at step N (the learning rate is constant after the
    # warm-up, so it is what a run with STEPS = N ends with), without training again.
    if len(sys.argv) > 2 and sys.argv[1] == "--ship":
        path = os.path.join(os.path.dirname(DATA), f"step-{int(sys.argv[2])}.safetensors")
        print(f"shipped {path}: weights sha256 {ship(read_safetensors(path), cfg, data)}")
        return
    # --check N: train N steps and print the weights' hash, writing nothing (the same seed must repeat it:
    # compare with the hash this script prints at step N of a full run).
    check = len(sys.argv) > 2 and sys.argv[1] == "--check"
    if check:
        STEPS, EVAL_EVERY = int(sys.argv[2]), 0
    torch.set_num_threads(1)  # one thread: reproducible bit for bit, and fair to a shared machine
    torch.manual_seed(SEED)
    gen = torch.Generator().manual_seed(SEED)
    params = init_params(cfg, gen)
    samples = data["train"]
    batches = make_batches(samples, gen)
    assert len(batches) >= STEPS, f"{len(batches)} batches of data for {STEPS} steps"
    decay = [t for n, t in params.items() if t.dim() == 2]
    no_decay = [t for n, t in params.items() if t.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=LR, betas=(0.9, 0.95), eps=1e-8)
    start, tokens = time.time(), 0
    for step in range(STEPS):
        for g in opt.param_groups:
            g["lr"] = lr_at(step)
        idx = batches[step]
        loss, acc = sft_loss(params, cfg, samples, idx)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(params.values()), CLIP)
        opt.step()
        tokens += sum(len(samples[i]["prompt"]) + len(samples[i]["target"]) for i in idx)
        if (step + 1) % 5 == 0:
            rate = tokens / (time.time() - start)
            print(f"step {step + 1}/{STEPS}  loss {loss.item():.3f}  token acc {acc.item():.3f}  "
                  f"{(step + 1) * BATCH} samples  {rate:.0f} tok/s", flush=True)
        if EVAL_EVERY and (step + 1) % EVAL_EVERY == 0:
            reward, fmt, last = evaluate(params, cfg, data)
            digest = weights_sha256(params)
            print(f"  probe greedy reward {reward:.3f}  format {fmt:.3f}  sha256 {digest}  e.g. {last!r}", flush=True)
            ref.write_safetensors(os.path.join(os.path.dirname(DATA), f"step-{step + 1}.safetensors"),
                                  {n: t.detach().contiguous() for n, t in params.items()}, {"format": "pt", "sha256": digest})
    tensors = {n: t.detach().float().contiguous() for n, t in params.items()}
    digest = weights_sha256(tensors)
    if check:
        print(f"after {STEPS} steps: weights sha256 {digest}")
        return
    ship(tensors, cfg, data)
    print(f"weights sha256 {digest}; {time.time() - start:.0f} s")


if __name__ == "__main__":
    main()
