"""Reader of tests/transcripts/*.t (format: tests/transcripts/README.md) for
the pty runner. The in-process runner is tests/tools/transcript_run.c; both
must read the format the same way."""
import re

_ESC = {"r": b"\r", "n": b"\n", "t": b"\t", "0": b"\0", "\\": b"\\", '"': b'"'}
_CLASSES = {
    "{INT}": rb"-?[0-9]+",
    "{HEX}": rb"[0-9A-Fa-f]+",
    "{FLOAT}": rb"-?[0-9]+\.[0-9]+",
    "{STR}": rb"[^\r\n]*",
    "{LINES}": rb"(?:[^\r\n]*\r\n)*?",
}


class FormatError(Exception):
    pass


def unescape(s, pattern=False):
    """Payload text -> bytes, or (pattern=True) -> a regex source (bytes)."""
    out, i = [], 0
    while i < len(s):
        c = s[i]
        if c == "\\":
            n = s[i + 1:i + 2]
            if n == "x":
                h = s[i + 2:i + 4]
                if len(h) != 2 or any(ch not in "0123456789abcdefABCDEF" for ch in h):
                    raise FormatError(f"bad \\x escape in {s!r}")
                b = bytes([int(h, 16)])
                i += 4
            elif n in _ESC:
                b = _ESC[n]
                i += 2
            else:
                raise FormatError(f"bad escape \\{n} in {s!r}")
            out.append(re.escape(b) if pattern else b)
            continue
        if pattern and c == "{":
            if s.startswith("{{", i):
                out.append(re.escape(b"{"))
                i += 2
                continue
            for name, rx in _CLASSES.items():
                if s.startswith(name, i):
                    out.append(rx)
                    i += len(name)
                    break
            else:
                raise FormatError(f"unknown placeholder at {s[i:]!r}")
            continue
        b = c.encode("latin-1")
        out.append(re.escape(b) if pattern else b)
        i += 1
    return b"".join(out)


def split_ctl(s):
    """The tokens of an @ line: separated by blanks; a token in double
    quotes may hold blanks and the payload escapes (not \\0). ASCII only, as
    the in-process runner: other bytes are written with ctl's own escapes
    inside a value. Returns a list of str."""
    if any(ord(c) > 0x7f for c in s):
        raise FormatError("non-ASCII byte in an @ line")
    out, i = [], 0
    while True:
        while i < len(s) and s[i] in " \t":
            i += 1
        if i == len(s):
            return out
        if s[i] == '"':
            i += 1
            tok = []
            while True:
                if i >= len(s):
                    raise FormatError("unterminated quote")
                c = s[i]
                if c == '"':
                    i += 1
                    break
                if c == "\\":
                    n = s[i + 1:i + 2]
                    step = 4 if n == "x" else 2
                    b = unescape(s[i:i + step])
                    if b == b"\0" or b[0] > 0x7f:
                        raise FormatError("\\0 or a non-ASCII byte in an @ argument")
                    tok.append(b.decode("latin-1"))
                    i += step
                    continue
                tok.append(c)
                i += 1
            if i < len(s) and s[i] not in " \t":
                raise FormatError("text after a closing quote")
            out.append("".join(tok))
        else:
            j = i
            while j < len(s) and s[j] not in " \t":
                j += 1
            out.append(s[i:j])
            i = j


def parse(path):
    """Returns (options, steps). options: {"pty-only": reason, "world":
    path, ...}. steps: ("expect", (regex_bytes, text_as_written), first_line)
    at every checkpoint, ("send", bytes, line), ("chunk", bytes, line),
    ("wait", ms, line), ("power-cycle", None, line), ("ctl", (args, want_ok),
    line). An expectation step precedes every non-expectation step and ends
    the list."""
    options, steps, exp, shown, exp_line = {}, [], [], [], 0

    def flush(line):
        nonlocal exp, shown, exp_line
        steps.append(("expect", (b"".join(exp), "".join(shown)), exp_line or line))
        exp, shown, exp_line = [], [], 0

    def payload(line, mlen):
        return line[mlen + 1:] if line[mlen:mlen + 1] == " " else line[mlen:]

    with open(path, encoding="latin-1") as f:
        for ln, raw in enumerate(f, 1):
            line = raw.rstrip("\r\n \t")
            if not line or line.startswith("#"):
                continue
            try:
                if line.startswith("!"):
                    opt = payload(line, 1)
                    name, _, reason = opt.partition(" ")
                    if name not in ("pty-only", "inproc-only", "world", "chip"):
                        raise FormatError(f"unknown option {name!r}")
                    if name == "world" and not reason:
                        raise FormatError("! world needs a path")
                    if name == "chip" and reason not in ("esp32c3", "esp8266"):
                        raise FormatError("! chip is esp32c3 or esp8266")
                    options[name] = reason
                elif line.startswith("<~"):
                    exp_line = exp_line or ln
                    exp.append(unescape(payload(line, 2), pattern=True))
                    shown.append(payload(line, 2))
                elif line.startswith("<"):
                    exp_line = exp_line or ln
                    exp.append(re.escape(unescape(payload(line, 1))))
                    shown.append(payload(line, 1))
                elif line.startswith(">>"):
                    flush(ln)
                    steps.append(("chunk", unescape(payload(line, 2)), ln))
                elif line.startswith(">"):
                    flush(ln)
                    steps.append(("send", unescape(payload(line, 1)), ln))
                elif line.startswith("@"):
                    want_ok = not line.startswith("@!")
                    args = split_ctl(payload(line, 1 if want_ok else 2))
                    if not args:
                        raise FormatError("empty @ line")
                    flush(ln)
                    steps.append(("ctl", (args, want_ok), ln))
                elif line.startswith("~"):
                    flush(ln)
                    steps.append(("wait", int(payload(line, 1)), ln))
                elif line.startswith("="):
                    if payload(line, 1) != "power-cycle":
                        raise FormatError("unknown action")
                    flush(ln)
                    steps.append(("power-cycle", None, ln))
                else:
                    raise FormatError("unknown line")
            except (FormatError, ValueError) as e:
                raise FormatError(f"{path}:{ln}: {e}") from None
    flush(ln + 1 if steps or exp else 1)
    return options, steps


def split_lines(data):
    """Cuts after every LF: one command line per write."""
    parts, start = [], 0
    while True:
        i = data.find(b"\n", start)
        if i < 0:
            break
        parts.append(data[start:i + 1])
        start = i + 1
    if start < len(data):
        parts.append(data[start:])
    return parts
