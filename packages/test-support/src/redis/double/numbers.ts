// Redis's number parsing and formatting, reproduced exactly where the double answers with numbers.
import { ReplyError } from "./resp.js";

export const NOT_INTEGER = "ERR value is not an integer or out of range";
export const NOT_FLOAT = "ERR value is not a valid float";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Redis's string2ll: an optional minus, digits without leading zeros, within 64 bits; else undefined. */
export function parseInt64(text: string): bigint | undefined {
  if (!/^(0|-?[1-9]\d{0,19})$/.test(text)) return undefined;
  const value = BigInt(text);
  return value < INT64_MIN || value > INT64_MAX ? undefined : value;
}

/** parseInt64 or the reply error Redis gives (`message`, "value is not an integer or out of range" by default). */
export function int64Arg(text: string, message = NOT_INTEGER): bigint {
  const value = parseInt64(text);
  if (value === undefined) throw new ReplyError(message);
  return value;
}

/** A 64-bit integer argument as a JS number, for counts and indexes (Redis takes long long). */
export function intArg(text: string, message = NOT_INTEGER): number {
  return Number(int64Arg(text, message));
}

/** True when value fits a signed 64-bit integer. */
export function inInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** Thrown for inputs the double does not parse the way C's strtod does (hex floats); the caller refuses. */
export class UnsupportedNumber extends Error {}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INFINITY = /^[+-]?inf(inity)?$/i;

/**
 * Redis's string2d (strtod, no surrounding spaces, no NaN). Returns undefined for what Redis rejects;
 * throws UnsupportedNumber for C hexadecimal floats, which it accepts but the double does not parse.
 */
export function parseDouble(text: string): number | undefined {
  if (text.length === 0) return undefined;
  if (DECIMAL.test(text)) {
    const value = Number(text);
    // strtod's ERANGE: overflow to infinity and underflow to zero are rejected by Redis.
    if (!Number.isFinite(value)) return undefined;
    if (value === 0 && /[1-9]/.test(text.split(/[eE]/)[0] ?? "")) return undefined;
    return value;
  }
  if (INFINITY.test(text)) return text.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?0x/i.test(text)) throw new UnsupportedNumber(text);
  return undefined;
}

/**
 * strtod over the whole string as zslParseRange uses it: leading white space allowed, an empty string is 0,
 * NaN rejected. Returns undefined for what Redis rejects.
 */
export function parseRangeDouble(text: string): number | undefined {
  if (text.length === 0) return 0;
  const body = text.replace(/^[ \t\n\v\f\r]+/, "");
  if (body.length === 0) return undefined;
  if (DECIMAL.test(body)) return Number(body);
  if (INFINITY.test(body)) return body.startsWith("-") ? -Infinity : Infinity;
  if (/^[+-]?0x/i.test(body)) throw new UnsupportedNumber(text);
  return undefined;
}

/** C's printf %.<precision>g for a finite double. */
export function formatG(value: number, precision: number): string {
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [mantissa, exponentText] = value.toExponential(precision - 1).split("e") as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= precision) {
    const digits = mantissa.includes(".") ? mantissa.replace(/0+$/, "").replace(/\.$/, "") : mantissa;
    const sign = exponent < 0 ? "-" : "+";
    return `${digits}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  const fixed = value.toFixed(Math.max(0, precision - 1 - exponent));
  return fixed.includes(".") ? fixed.replace(/0+$/, "").replace(/\.$/, "") : fixed;
}

/** How Redis 7.0 writes a double in a reply (addReplyDouble: %.17g, inf and -inf). */
export function formatReplyDouble(value: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  return formatG(value, 17);
}

// INCRBYFLOAT and HINCRBYFLOAT compute in C's long double (x87 80-bit: a 64-bit significand) and print
// with %.17Lf, trailing zeros removed. JS has no such type, so it is emulated exactly with BigInt.

/** A finite long double: mantissa * 2^exponent, the mantissa below 2^64. */
interface LongDouble {
  mantissa: bigint;
  exponent: number;
}

const SIGNIFICAND_BITS = 64n;

function bitLength(value: bigint): bigint {
  return BigInt((value < 0n ? -value : value).toString(2).length);
}

/** Rounds num/den (den > 0) to a long double, half to even. */
function roundToLongDouble(num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { mantissa: 0n, exponent: 0 };
  const negative = num < 0n;
  const n = negative ? -num : num;
  // Scale so that the quotient has exactly SIGNIFICAND_BITS bits before rounding.
  let shift = bitLength(n) - bitLength(den) - SIGNIFICAND_BITS;
  const quotient = (s: bigint) => (s >= 0n ? n / (den << s) : (n << -s) / den);
  while (quotient(shift) >= 1n << SIGNIFICAND_BITS) shift += 1n;
  while (quotient(shift) < 1n << (SIGNIFICAND_BITS - 1n)) shift -= 1n;
  const scaledDen = shift >= 0n ? den << shift : den;
  const scaledNum = shift >= 0n ? n : n << -shift;
  let q = scaledNum / scaledDen;
  const remainder = scaledNum - q * scaledDen;
  if (remainder * 2n > scaledDen || (remainder * 2n === scaledDen && (q & 1n) === 1n)) q += 1n;
  let exponent = Number(shift);
  if (q === 1n << SIGNIFICAND_BITS) {
    q >>= 1n;
    exponent += 1;
  }
  return { mantissa: negative ? -q : q, exponent };
}

function toFraction(value: LongDouble): { num: bigint; den: bigint } {
  return value.exponent >= 0
    ? { num: value.mantissa << BigInt(value.exponent), den: 1n }
    : { num: value.mantissa, den: 1n << BigInt(-value.exponent) };
}

/** strtold of a decimal string as an exact fraction, or undefined when it is not plain decimal. */
function decimalFraction(text: string): { num: bigint; den: bigint } | undefined {
  const match = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!match || (match[2] === "" && (match[3] ?? "") === "")) return undefined;
  const sign = match[1] === "-" ? -1n : 1n;
  const digits = `${match[2]}${match[3] ?? ""}` || "0";
  const exponent = Number(match[4] ?? "0") - (match[3] ?? "").length;
  if (Math.abs(exponent) > 5000) return undefined;
  const base = BigInt(digits) * sign;
  return exponent >= 0
    ? { num: base * 10n ** BigInt(exponent), den: 1n }
    : { num: base, den: 10n ** BigInt(-exponent) };
}

/** Parses like Redis's string2ld for INCRBYFLOAT; undefined when Redis would reject it. */
export function parseLongDouble(text: string): LongDouble | undefined {
  if (INFINITY.test(text) || /nan/i.test(text)) return undefined;
  if (/^[+-]?0x/i.test(text)) throw new UnsupportedNumber(text);
  if (!DECIMAL.test(text)) return undefined;
  const fraction = decimalFraction(text);
  if (!fraction) throw new UnsupportedNumber(text);
  const rounded = roundToLongDouble(fraction.num, fraction.den);
  // Beyond the long double range (about 1.19e4932) strtold overflows; no suite needs that.
  if (rounded.exponent > 16320 || rounded.exponent < -16500) throw new UnsupportedNumber(text);
  return rounded;
}

/** a + b in long double. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  const fa = toFraction(a);
  const fb = toFraction(b);
  return roundToLongDouble(fa.num * fb.den + fb.num * fa.den, fa.den * fb.den);
}

/** %.17Lf with trailing zeros (and a trailing point) removed, as Redis's ld2string(LD_STR_HUMAN) writes it. */
export function formatLongDouble(value: LongDouble): string {
  const { num, den } = toFraction(value);
  const negative = num < 0n;
  const n = negative ? -num : num;
  const scale = 10n ** 17n;
  let q = (n * scale) / den;
  const remainder = n * scale - q * den;
  if (remainder * 2n > den || (remainder * 2n === den && (q & 1n) === 1n)) q += 1n;
  const digits = q.toString().padStart(18, "0");
  const whole = digits.slice(0, -17);
  const fraction = digits.slice(-17).replace(/0+$/, "");
  const text = fraction ? `${whole}.${fraction}` : whole;
  return negative && text !== "0" ? `-${text}` : text;
}

/** True when a long double is finite within the range Redis accepts for a result. */
export function longDoubleIsFinite(value: LongDouble): boolean {
  return value.exponent < 16320;
}
