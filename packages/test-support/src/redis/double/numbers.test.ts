import { describe, expect, it } from "vitest";
import { globMatch } from "./glob.js";
import {
  addLongDouble,
  formatG,
  formatLongDouble,
  formatReplyDouble,
  parseDouble,
  parseInt64,
  parseLongDouble,
  parseRangeDouble,
  UnsupportedNumber,
} from "./numbers.js";
import { formatFloat, formatInteger, formatQuoted, scanFormat } from "./printf.js";

const incrByFloat = (a: string, b: string) =>
  formatLongDouble(addLongDouble(parseLongDouble(a) as never, parseLongDouble(b) as never));

describe("Redis's number parsing", () => {
  it("parses 64-bit integers as string2ll does: no spaces, plus signs, leading zeros or overflow", () => {
    expect(parseInt64("9223372036854775807")).toBe(9223372036854775807n);
    expect(parseInt64("-9223372036854775808")).toBe(-9223372036854775808n);
    for (const bad of ["9223372036854775808", " 1", "+1", "01", "-0", "1.0", "", "1e3"]) {
      expect(parseInt64(bad), bad).toBeUndefined();
    }
  });

  it("parses doubles as string2d does and refuses what the double cannot parse", () => {
    expect(parseDouble("1.5")).toBe(1.5);
    expect(parseDouble("-inf")).toBe(-Infinity);
    expect(parseDouble("+Infinity")).toBe(Infinity);
    for (const bad of ["nan", " 1", "1e400", "1e-400", "abc", ""])
      expect(parseDouble(bad), bad).toBeUndefined();
    expect(() => parseDouble("0x1p3")).toThrow(UnsupportedNumber);
    expect(parseRangeDouble("")).toBe(0);
    expect(parseRangeDouble(" 2")).toBe(2);
    expect(parseRangeDouble("  ")).toBeUndefined();
  });
});

describe("Redis's number formatting", () => {
  it("prints doubles in replies with %.17g, as Redis 7.0 does", () => {
    expect(formatReplyDouble(1.1)).toBe("1.1000000000000001");
    expect(formatReplyDouble(0.1 + 0.2)).toBe("0.30000000000000004");
    expect(formatReplyDouble(1e20)).toBe("1e+20");
    expect(formatReplyDouble(3)).toBe("3");
    expect(formatReplyDouble(-0.5)).toBe("-0.5");
    expect(formatReplyDouble(Infinity)).toBe("inf");
    expect(formatG(0.00001, 17)).toBe("1.0000000000000001e-05");
    expect(formatG(1e15, 14)).toBe("1e+15");
    expect(formatG(123456789012345680, 14)).toBe("1.2345678901235e+17");
  });

  it("adds INCRBYFLOAT increments in x87 long double and prints them with %.17Lf like Redis", () => {
    expect(incrByFloat("0.1", "0.2")).toBe("0.3");
    expect(incrByFloat("10.50", "0.1")).toBe("10.6");
    expect(incrByFloat("5.0e3", "2.0e2")).toBe("5200");
    expect(incrByFloat("10000000000", "0.1")).toBe("10000000000.09999999962747097");
    expect(incrByFloat("10000000000.09999999962747097", "1e15")).toBe("1000010000000000.0999755859375");
    expect(incrByFloat("1", "-1")).toBe("0");
    expect(parseLongDouble("inf")).toBeUndefined();
  });
});

describe("Lua 5.1's string.format", () => {
  const spec = (format: string) => scanFormat(format, 1).spec;
  it("truncates fractions for integer conversions and keeps C's widths and flags", () => {
    expect(formatInteger(3.7, spec("%d"))).toBe("3");
    expect(formatInteger(-42, spec("%05d"))).toBe("-0042");
    expect(formatInteger(255.9, spec("%x"))).toBe("ff");
    expect(formatInteger(1700000000000, spec("%d"))).toBe("1700000000000");
    expect(formatInteger(-1, spec("%x"))).toBe("ffffffffffffffff");
    expect(formatInteger(7, spec("%+d"))).toBe("+7");
  });
  it("prints floats as glibc does", () => {
    expect(formatFloat(1.25001, spec("%5.1f"))).toBe("  1.3");
    expect(formatFloat(12345.678, spec("%e"))).toBe("1.234568e+04");
    expect(formatFloat(0.0001, spec("%g"))).toBe("0.0001");
    expect(formatFloat(1e-5, spec("%g"))).toBe("1e-05");
    expect(formatFloat(100000, spec("%g"))).toBe("100000");
    expect(formatFloat(1000000, spec("%g"))).toBe("1e+06");
  });
  it("quotes like Lua 5.1's %q and rejects formats 5.1 rejects", () => {
    expect(formatQuoted('a"b\\c\nd\re\u0000')).toBe('"a\\"b\\\\c\\\nd\\re\\000"');
    expect(() => scanFormat("%123d", 1)).toThrow("width or precision too long");
  });
});

describe("Redis's glob matching", () => {
  const cases: Array<[string, string, boolean]> = [
    ["h?llo", "hello", true],
    ["h?llo", "hllo", false],
    ["h*llo", "heeeello", true],
    ["h*llo", "hllo", true],
    ["h[ae]llo", "hallo", true],
    ["h[ae]llo", "hillo", false],
    ["h[^e]llo", "hallo", true],
    ["h[^e]llo", "hello", false],
    ["h[a-b]llo", "hbllo", true],
    ["h[b-a]llo", "hallo", true],
    ["h\\*llo", "h*llo", true],
    ["h\\*llo", "hello", false],
    ["*", "", true],
    ["**", "", false],
    ["a*", "a", true],
    ["[abc", "a", true],
  ];
  for (const [pattern, text, expected] of cases) {
    it(`${JSON.stringify(pattern)} ${expected ? "matches" : "does not match"} ${JSON.stringify(text)}`, () => {
      expect(globMatch(pattern, text)).toBe(expected);
    });
  }
});
