// C's printf conversions as Lua 5.1's string.format uses them (Redis runs Lua 5.1; the double's engine is
// Lua 5.3, whose string.format differs for %d of fractions, large integers, %e exponents and %q).
import { formatG } from "./numbers.js";

/** A parsed conversion: %[flags][width][.precision]conversion. */
export interface Conversion {
  flags: string;
  width: number | undefined;
  precision: number | undefined;
  conversion: string;
}

/** Thrown for a format Lua 5.1 rejects; the message is Lua's. */
export class FormatError extends Error {}

/** Thrown for what the double does not format (NaN's sign, numbers beyond %f's exact range). */
export class FormatUnsupported extends Error {}

/** Lua 5.1's scanformat: up to 5 flags, 2 width digits, 2 precision digits. */
export function scanFormat(format: string, start: number): { spec: Conversion; end: number } {
  let i = start;
  let flags = "";
  while (i < format.length && "-+ #0".includes(format[i] as string)) {
    flags += format[i];
    i++;
    if (flags.length > 5) throw new FormatError("invalid format (repeated flags)");
  }
  let width = "";
  while (/\d/.test(format[i] ?? "")) {
    width += format[i];
    i++;
  }
  let precision: string | undefined;
  if (format[i] === ".") {
    i++;
    precision = "";
    while (/\d/.test(format[i] ?? "")) {
      precision += format[i];
      i++;
    }
  }
  if (width.length > 2 || (precision?.length ?? 0) > 2) {
    throw new FormatError("invalid format (width or precision too long)");
  }
  const conversion = format[i] ?? "";
  return {
    spec: {
      flags,
      width: width ? Number(width) : undefined,
      precision: precision === undefined ? undefined : Number(precision || "0"),
      conversion,
    },
    end: i + 1,
  };
}

function pad(body: string, sign: string, spec: Conversion, zeroAllowed: boolean): string {
  const width = spec.width ?? 0;
  const total = sign.length + body.length;
  if (total >= width) return sign + body;
  if (spec.flags.includes("-")) return (sign + body).padEnd(width, " ");
  if (spec.flags.includes("0") && zeroAllowed) return sign + body.padStart(width - sign.length, "0");
  return (sign + body).padStart(width, " ");
}

function signOf(negative: boolean, spec: Conversion): string {
  if (negative) return "-";
  if (spec.flags.includes("+")) return "+";
  if (spec.flags.includes(" ")) return " ";
  return "";
}

/** %d %i %o %u %x %X of a Lua 5.1 number (cast to long / unsigned long, so fractions truncate). */
export function formatInteger(value: number, spec: Conversion): string {
  if (!Number.isFinite(value) || Math.abs(value) >= 2 ** 63) {
    throw new FormatUnsupported(`%${spec.conversion} of ${value}`);
  }
  const truncated = BigInt(Math.trunc(value));
  const c = spec.conversion;
  const signed = c === "d" || c === "i";
  let magnitude: bigint;
  let negative = false;
  if (signed) {
    negative = truncated < 0n;
    magnitude = negative ? -truncated : truncated;
  } else {
    magnitude = BigInt.asUintN(64, truncated);
  }
  let digits = magnitude.toString(c === "o" ? 8 : c === "x" || c === "X" ? 16 : 10);
  if (c === "X") digits = digits.toUpperCase();
  if (spec.precision !== undefined) {
    digits = spec.precision === 0 && magnitude === 0n ? "" : digits.padStart(spec.precision, "0");
  }
  if (spec.flags.includes("#")) {
    if (c === "o" && !digits.startsWith("0")) digits = `0${digits}`;
    if ((c === "x" || c === "X") && magnitude !== 0n) digits = `${c === "x" ? "0x" : "0X"}${digits}`;
  }
  const sign = signed ? signOf(negative, spec) : "";
  return pad(digits, sign, spec, spec.precision === undefined);
}

function exponentForm(value: number, precision: number, upper: boolean): string {
  const [mantissa, exponent] = value.toExponential(precision).split("e") as [string, string];
  const e = Number(exponent);
  const text = `${mantissa}e${e < 0 ? "-" : "+"}${String(Math.abs(e)).padStart(2, "0")}`;
  return upper ? text.toUpperCase() : text;
}

/** %e %E %f %g %G of a double, as glibc prints it. */
export function formatFloat(value: number, spec: Conversion): string {
  const c = spec.conversion;
  const upper = c === "E" || c === "G";
  if (Number.isNaN(value)) throw new FormatUnsupported("NaN (C prints nan or -nan by its sign bit)");
  const negative = value < 0 || Object.is(value, -0);
  const magnitude = Math.abs(value);
  const sign = signOf(negative, spec);
  if (!Number.isFinite(magnitude)) return pad(upper ? "INF" : "inf", sign, spec, false);
  const precision = spec.precision ?? 6;
  let body: string;
  if (c === "f") {
    if (magnitude >= 1e21) throw new FormatUnsupported(`%f of ${value}`);
    body = magnitude.toFixed(precision);
    if (spec.flags.includes("#") && precision === 0) body += ".";
  } else if (c === "e" || c === "E") {
    body = exponentForm(magnitude, precision, upper);
    if (spec.flags.includes("#") && precision === 0) body = body.replace(/e/i, (m) => `.${m}`);
  } else {
    const p = precision === 0 ? 1 : precision;
    if (spec.flags.includes("#")) {
      const exponent = magnitude === 0 ? 0 : Number(magnitude.toExponential(p - 1).split("e")[1]);
      body =
        exponent < -4 || exponent >= p
          ? exponentForm(magnitude, p - 1, upper)
          : magnitude.toFixed(Math.max(0, p - 1 - exponent));
      if (!body.includes(".")) body = body.replace(/^(\d+)/, "$1.");
    } else {
      body = formatG(magnitude, p);
      if (upper) body = body.toUpperCase();
    }
  }
  return pad(body, sign, spec, true);
}

/** %s: the string, cut to the precision and padded to the width. */
export function formatString(text: string, spec: Conversion): string {
  const cut = spec.precision === undefined ? text : text.slice(0, spec.precision);
  const width = spec.width ?? 0;
  if (cut.length >= width) return cut;
  return spec.flags.includes("-") ? cut.padEnd(width, " ") : cut.padStart(width, " ");
}

/** %q as Lua 5.1 writes it. */
export function formatQuoted(text: string): string {
  let out = '"';
  for (const ch of text) {
    if (ch === '"' || ch === "\\" || ch === "\n") out += `\\${ch}`;
    else if (ch === "\r") out += "\\r";
    else if (ch === "\u0000") out += "\\000";
    else out += ch;
  }
  return `${out}"`;
}
