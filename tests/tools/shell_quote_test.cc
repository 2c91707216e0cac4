// Tests of the shell's argument parser and output quoting.
#include "shell_quote.h"

#include <gtest/gtest.h>

#include <random>

namespace ringdb::shell {
namespace shell_quote_test {

std::vector<std::string> Values(const std::vector<Arg>& args) {
  std::vector<std::string> out;
  for (const Arg& a : args) out.push_back(a.value);
  return out;
}

std::vector<std::string> MustParse(std::string_view line) {
  std::vector<Arg> args;
  std::string error;
  EXPECT_TRUE(ParseLine(line, &args, &error)) << line << ": " << error;
  return Values(args);
}

std::string ParseError(std::string_view line) {
  std::vector<Arg> args;
  std::string error;
  EXPECT_FALSE(ParseLine(line, &args, &error)) << line;
  return error;
}

// Formats `bytes` and parses it back: as a dump-line field and as a single
// command-line argument.
// Returns the bytes read back (checking that both readings agree).
std::string RoundTrip(std::string_view bytes) {
  const std::string shown = FormatBytes(bytes);
  std::string key, value, error;
  EXPECT_TRUE(ParseDumpLine(shown + "\t" + shown, &key, &value, &error))
      << shown << ": " << error;
  EXPECT_EQ(key, value) << shown;
  std::vector<Arg> args;
  EXPECT_TRUE(ParseLine(shown, &args, &error)) << shown << ": " << error;
  EXPECT_EQ(args.size(), 1u) << shown;
  if (args.empty()) return "<none>";
  EXPECT_EQ(args[0].value, key) << shown;
  return args[0].value;
}

TEST(ParseLineTest, SplitsAtSpacesAndTabs) {
  EXPECT_EQ(MustParse("put k v"), (std::vector<std::string>{"put", "k", "v"}));
  EXPECT_EQ(MustParse("  put \t k   v  "), (std::vector<std::string>{"put", "k", "v"}));
  EXPECT_TRUE(MustParse("").empty());
  EXPECT_TRUE(MustParse("   \t ").empty());
}

TEST(ParseLineTest, QuotedArguments) {
  EXPECT_EQ(MustParse(R"(put "a key" "a value")"),
            (std::vector<std::string>{"put", "a key", "a value"}));
  EXPECT_EQ(MustParse(R"(put "" "")"), (std::vector<std::string>{"put", "", ""}));
  EXPECT_EQ(MustParse(R"("\\\"\n\t\r\0\x41\xfF")"),
            (std::vector<std::string>{std::string("\\\"\n\t\r\0A\xff", 8)}));
}

TEST(ParseLineTest, QuotedFlagTellsOptionsFromKeys) {
  std::vector<Arg> args;
  std::string error;
  ASSERT_TRUE(ParseLine(R"(scan "--limit" --limit)", &args, &error));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_FALSE(args[0].quoted);
  EXPECT_TRUE(args[1].quoted);
  EXPECT_FALSE(args[2].quoted);
}

TEST(ParseLineTest, BackslashOutsideQuotesIsLiteral) {
  EXPECT_EQ(MustParse(R"(put a\n b\)"), (std::vector<std::string>{"put", "a\\n", "b\\"}));
}

TEST(ParseLineTest, Errors) {
  EXPECT_NE(ParseError(R"(put "abc)").find("unterminated quote at column 5"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "abc\")").find("unterminated quote"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "abc\)").find("unterminated quote"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "a\qb")").find("bad escape \\q at column 7"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "\x4")").find("bad escape \\x"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "\x4)").find("bad escape \\x"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "\xg0")").find("bad escape \\x"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "\x")").find("bad escape \\x"), std::string::npos);
  EXPECT_NE(ParseError(R"(put "ab"cd)").find("after the closing quote"), std::string::npos);
  EXPECT_NE(ParseError(R"(put ab"cd")").find("unexpected quote"), std::string::npos);
  // A bad escape naming an unprintable byte shows it escaped.
  EXPECT_NE(ParseError(std::string("put \"\\\x01\"")).find("bad escape \\\\x01"),
            std::string::npos);
}

TEST(FormatBytesTest, PlainWhenSafe) {
  EXPECT_EQ(FormatBytes("hello"), "hello");
  EXPECT_EQ(FormatBytes("a#b=c{}"), "a#b=c{}");
  EXPECT_EQ(FormatBytes("a-b@c"), "a-b@c");
}

TEST(FormatBytesTest, QuotedWhenItWouldNotReadBackAsOneArgument) {
  EXPECT_EQ(FormatBytes("hello world"), "\"hello world\"");
  EXPECT_EQ(FormatBytes("(nil)"), "\"(nil)\"");  // Told from a miss.
  EXPECT_EQ(FormatBytes("--limit"), "\"--limit\"");  // Not an option.
  EXPECT_EQ(FormatBytes("-"), "\"-\"");              // Not put's stdin.
  EXPECT_EQ(FormatBytes("@file"), "\"@file\"");      // Not put's @FILE.
}

TEST(FormatBytesTest, Utf8PrintedAsIsOnlyWhenAsked) {
  EXPECT_EQ(FormatBytes("caf\xc3\xa9"), "\"caf\\xc3\\xa9\"");
  EXPECT_EQ(FormatBytes("caf\xc3\xa9", /*utf8=*/true), "caf\xc3\xa9");
  EXPECT_EQ(FormatBytes("\xe6\x97\xa5 x", true), "\"\xe6\x97\xa5 x\"");
  // Invalid, overlong, C1 controls and surrogates stay escaped.
  EXPECT_EQ(FormatBytes("a\xc3", true), "\"a\\xc3\"");
  EXPECT_EQ(FormatBytes("\xc0\xaf", true), "\"\\xc0\\xaf\"");
  EXPECT_EQ(FormatBytes("\xc2\x85", true), "\"\\xc2\\x85\"");
  EXPECT_EQ(FormatBytes("\xed\xa0\x80", true), "\"\\xed\\xa0\\x80\"");
  // And it reads back.
  std::vector<Arg> args;
  std::string error;
  ASSERT_TRUE(ParseLine(FormatBytes("\xe6\x97\xa5 \xff", true), &args, &error)) << error;
  ASSERT_EQ(args.size(), 1u);
  EXPECT_EQ(args[0].value, "\xe6\x97\xa5 \xff");
}

TEST(FormatBytesTest, QuotedOtherwise) {
  EXPECT_EQ(FormatBytes(""), "\"\"");
  EXPECT_EQ(FormatBytes(" lead"), "\" lead\"");
  EXPECT_EQ(FormatBytes("trail "), "\"trail \"");
  EXPECT_EQ(FormatBytes("a\tb"), "\"a\\tb\"");
  EXPECT_EQ(FormatBytes("a\nb"), "\"a\\nb\"");
  EXPECT_EQ(FormatBytes("a\\b"), "\"a\\\\b\"");
  EXPECT_EQ(FormatBytes("say \"hi\""), "\"say \\\"hi\\\"\"");
  EXPECT_EQ(FormatBytes(std::string("\0\r\x7f\x80\xff", 5)), "\"\\0\\r\\x7f\\x80\\xff\"");
}

TEST(FormatBytesTest, AllSingleBytesRoundTrip) {
  for (int b = 0; b < 256; ++b) {
    const std::string s(1, static_cast<char>(b));
    EXPECT_EQ(RoundTrip(s), s) << "byte " << b;
    const std::string s3 = "a" + s + "z";
    EXPECT_EQ(RoundTrip(s3), s3) << "byte " << b;
  }
}

TEST(FormatBytesTest, AllBytesInOneStringRoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_EQ(RoundTrip(all), all);
}

TEST(FormatBytesTest, RandomStringsRoundTrip) {
  std::mt19937 rng(20261122);
  for (int i = 0; i < 5000; ++i) {
    const size_t len = rng() % 40;
    std::string s;
    // Half the strings draw from a small alphabet heavy in special bytes.
    static const char kSpecial[] = " \t\n\r\\\"\0x0#";
    for (size_t j = 0; j < len; ++j) {
      s.push_back(i % 2 ? static_cast<char>(rng() % 256)
                        : kSpecial[rng() % (sizeof(kSpecial) - 1)]);
    }
    ASSERT_EQ(RoundTrip(s), s) << FormatBytes(s);
  }
}

TEST(FormatBytesTest, CommandLineRoundTrips) {
  // Output pasted back into a command keeps every argument intact.
  const std::string key("k \"1\"\t", 7), value("\0v\\", 3);
  std::vector<Arg> args;
  std::string error;
  ASSERT_TRUE(ParseLine("put " + FormatBytes(key) + " " + FormatBytes(value), &args, &error));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[1].value, key);
  EXPECT_EQ(args[2].value, value);
}

TEST(DumpLineTest, RoundTrip) {
  std::mt19937 rng(7);
  for (int i = 0; i < 2000; ++i) {
    std::string k, v;
    for (size_t j = rng() % 12; j > 0; --j) k.push_back(static_cast<char>(rng() % 256));
    for (size_t j = rng() % 12; j > 0; --j) v.push_back(static_cast<char>(rng() % 256));
    std::string k2, v2, error;
    const std::string line = FormatDumpLine(k, v);
    ASSERT_EQ(line.find('\n'), std::string::npos);
    ASSERT_TRUE(ParseDumpLine(line, &k2, &v2, &error)) << line << ": " << error;
    EXPECT_EQ(k2, k);
    EXPECT_EQ(v2, v);
  }
}

TEST(DumpLineTest, BareFieldsKeepSpaces) {
  std::string k, v, error;
  ASSERT_TRUE(ParseDumpLine("my key\tsome value here", &k, &v, &error)) << error;
  EXPECT_EQ(k, "my key");
  EXPECT_EQ(v, "some value here");
  ASSERT_TRUE(ParseDumpLine("\"q\\tk\"\t", &k, &v, &error)) << error;
  EXPECT_EQ(k, "q\tk");
  EXPECT_EQ(v, "");
}

TEST(DumpLineTest, Errors) {
  std::string k, v, error;
  EXPECT_FALSE(ParseDumpLine("no tab here", &k, &v, &error));
  EXPECT_NE(error.find("KEY<TAB>VALUE"), std::string::npos);
  EXPECT_FALSE(ParseDumpLine("\"k\"x\tv", &k, &v, &error));
  EXPECT_FALSE(ParseDumpLine("k\t\"v\" extra", &k, &v, &error));
  EXPECT_NE(error.find("after the value"), std::string::npos);
  EXPECT_FALSE(ParseDumpLine("k\t\"v", &k, &v, &error));
  EXPECT_NE(error.find("unterminated"), std::string::npos);
  EXPECT_FALSE(ParseDumpLine("k\tv\tw", &k, &v, &error));
}

}  // namespace shell_quote_test
}  // namespace ringdb::shell
