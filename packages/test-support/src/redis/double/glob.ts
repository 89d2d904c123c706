// Redis's glob matching (util.c stringmatchlen) on binary (latin1) strings, byte by byte.

function matchAt(pattern: string, p: number, text: string, s: number, giveUp: { longer: boolean }): boolean {
  let pi = p;
  let si = s;
  while (pi < pattern.length && si < text.length) {
    const c = pattern[pi];
    if (c === "*") {
      while (pattern[pi + 1] === "*") pi++;
      if (pi === pattern.length - 1) return true;
      while (si < text.length) {
        if (matchAt(pattern, pi + 1, text, si, giveUp)) return true;
        if (giveUp.longer) return false;
        si++;
      }
      giveUp.longer = true;
      return false;
    }
    if (c === "?") {
      si++;
    } else if (c === "[") {
      pi++;
      const not = pattern[pi] === "^";
      if (not) pi++;
      let match = false;
      const ch = text.charCodeAt(si);
      for (;;) {
        if (pattern[pi] === "\\" && pattern.length - pi >= 2) {
          pi++;
          if (pattern.charCodeAt(pi) === ch) match = true;
        } else if (pattern[pi] === "]") {
          break;
        } else if (pi >= pattern.length) {
          pi--;
          break;
        } else if (pattern.length - pi >= 3 && pattern[pi + 1] === "-") {
          let start = pattern.charCodeAt(pi);
          let end = pattern.charCodeAt(pi + 2);
          if (start > end) [start, end] = [end, start];
          pi += 2;
          if (ch >= start && ch <= end) match = true;
        } else if (pattern.charCodeAt(pi) === ch) {
          match = true;
        }
        pi++;
      }
      if (not) match = !match;
      if (!match) return false;
      si++;
    } else {
      if (c === "\\" && pattern.length - pi >= 2) pi++;
      if (pattern[pi] !== text[si]) return false;
      si++;
    }
    pi++;
    if (si === text.length) {
      while (pattern[pi] === "*") pi++;
      break;
    }
  }
  return pi >= pattern.length && si === text.length;
}

/** True when `text` matches the Redis glob `pattern` (*, ?, [a-z], [^x], backslash escapes). */
export function globMatch(pattern: string, text: string): boolean {
  if (pattern === "*") return true;
  return matchAt(pattern, 0, text, 0, { longer: false });
}
