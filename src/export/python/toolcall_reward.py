"""Tool-N1 Studio's tool-call rewards, for verl and TRL (written by `export-run`).

The same rule-based rewards the studio trains with (src/toolcall/reward.ts), read the same way:
the LAST <tool_call>...</tool_call> block of the completion, its inside trimmed and JSON-parsed (a JSON
string is parsed once more, a single object becomes a list of one); the think check is presence only;
correctness compares the multisets of (name, json.dumps(arguments, sort_keys=True)) with the ground truth.

Variants (REWARD below, or the `reward` argument):
  binary           1 if both think tags are present and the calls match exactly (the paper's default)
  binary_no_think  1 if the calls match exactly
  partial_format   0.2 for the think tags + 0.8 for an exact match
  partial_names    0.2 for the think tags + 0.8 for an exact match, or else 0.2 if only the names match

Entry points:
  verl: compute_score(data_source, solution_str, ground_truth, extra_info=None) -> float
        (custom_reward_function.path=<this file>, custom_reward_function.name=compute_score)
  TRL:  tool_call_reward(completions, ground_truth, **kwargs) -> list[float]
        (GRPOTrainer(reward_funcs=[tool_call_reward]); `ground_truth` is the dataset column)
  CLI:  python3 toolcall_reward.py CASES.jsonl [--reward NAME]
        one JSON line per case {"reward", ...signals}, like the studio's `score` command.
Only the standard library is used.
"""

import json
import re
import sys
from collections import Counter

REWARD = "binary"
REWARDS = ("binary", "binary_no_think", "partial_format", "partial_names")

_TOOL_CALL = re.compile(r"<tool_call>(.*?)</tool_call>", re.DOTALL)
# What the studio's reader trims (JavaScript's String.prototype.trim), which differs from str.strip()
# in \x1c-\x1f and \x85 (Python strips them) and \ufeff (JavaScript strips it).
_TRIMMED = "\t\n\x0b\x0c\r \xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
# JSON nested deeper than this is refused, before parsing, as the studio does.
MAX_JSON_DEPTH = 512


def _nesting_depth(text):
    depth = deepest = 0
    in_string = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_string:
            if c == "\\":
                i += 1
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif c in "]}":
            depth -= 1
        i += 1
    return deepest


def _not_json(name):
    raise ValueError(name + " is not JSON")


def _loads(text):
    """json.loads, minus what JSON does not allow (NaN, Infinity), with the studio's depth limit."""
    if _nesting_depth(text) > MAX_JSON_DEPTH:
        raise ValueError("JSON nested too deep")
    return json.loads(text, parse_constant=_not_json)


def parse_tool_calls(completion):
    """(block_found, json_parsed, calls): calls is a list of {name, arguments}, or None if malformed."""
    blocks = _TOOL_CALL.findall(completion)
    if not blocks:
        return False, False, None
    try:
        value = _loads(blocks[-1].strip(_TRIMMED))
        if isinstance(value, str):
            value = _loads(value)
    except (ValueError, RecursionError):
        return True, False, None
    items = [value] if isinstance(value, dict) else value
    if not isinstance(items, list):
        return True, True, None
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or "arguments" not in item:
            return True, True, None
    return True, True, items


def _call_key(call):
    return json.dumps([call["name"], call["arguments"]], sort_keys=True)


def reward_signals(completion, ground_truth):
    """The sub-signals of the studio's score command. ground_truth: a list of calls, or its JSON text."""
    truth = _loads(ground_truth) if isinstance(ground_truth, str) else ground_truth
    found, parsed, calls = parse_tool_calls(completion)
    return {
        "toolCallFound": found,
        "jsonParsed": parsed,
        "thinkTags": "<think>" in completion and "</think>" in completion,
        "namesMatch": calls is not None and Counter(c["name"] for c in calls) == Counter(c["name"] for c in truth),
        "exactMatch": calls is not None and Counter(map(_call_key, calls)) == Counter(map(_call_key, truth)),
    }


def reward_of(s, reward=None):
    """The reward of a completion's signals under one variant."""
    reward = reward or REWARD
    think = 0.2 if s["thinkTags"] else 0
    if reward == "binary":
        return 1 if s["thinkTags"] and s["exactMatch"] else 0
    if reward == "binary_no_think":
        return 1 if s["exactMatch"] else 0
    if reward == "partial_format":
        return think + (0.8 if s["exactMatch"] else 0)
    if reward == "partial_names":
        return think + (0.8 if s["exactMatch"] else 0.2 if s["namesMatch"] else 0)
    raise ValueError("unknown reward %r (one of %s)" % (reward, ", ".join(REWARDS)))


def score(completion, ground_truth, reward=None):
    return reward_of(reward_signals(completion, ground_truth), reward)


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs):
    """verl's custom reward function: the decoded response, and reward_model.ground_truth (JSON text)."""
    return float(score(solution_str, ground_truth))


def _completion_text(completion):
    # TRL passes strings for a standard dataset and lists of messages for a conversational one.
    if isinstance(completion, str):
        return completion
    return "".join(m["content"] for m in completion if m.get("role", "assistant") == "assistant")


def tool_call_reward(completions, ground_truth, **kwargs):
    """TRL's reward function: one float per completion; ground_truth is the dataset column (JSON text)."""
    return [float(score(_completion_text(c), t)) for c, t in zip(completions, ground_truth)]


def _main(argv):
    reward = REWARD
    args = list(argv)
    if "--reward" in args:
        i = args.index("--reward")
        reward = args[i + 1]
        del args[i : i + 2]
    if len(args) != 1 or reward not in REWARDS:
        sys.exit("usage: python3 toolcall_reward.py CASES.jsonl [--reward %s]" % "|".join(REWARDS))
    with open(args[0], encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            case = json.loads(line)
            signals = reward_signals(case["completion"], case["ground_truth"])
            print(json.dumps({"reward": reward_of(signals, reward), **signals}))


if __name__ == "__main__":
    _main(sys.argv[1:])
