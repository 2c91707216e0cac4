// Tests of the output formats and load's record parsers (shell_format.cc),
// SplitOptions and the "did you mean" suggestion (shell_args.cc).
#include <gtest/gtest.h>

#include <random>

#include "shell_commands.h"

namespace ringdb::shell {
namespace shell_format_test {

ShellContext WithFormat(const std::string& format) {
  ShellContext ctx;
  ctx.format = format;
  return ctx;
}

TEST(FormatTest, EveryFormatRoundTripsRandomBytes) {
  std::mt19937 rng(5);
  for (const std::string format : {"text", "tsv", "csv", "json"}) {
    ShellContext ctx = WithFormat(format);
    for (int i = 0; i < 3000; ++i) {
      std::string k, v;
      for (size_t j = 1 + rng() % 10; j > 0; --j) k.push_back(static_cast<char>(rng() % 256));
      for (size_t j = rng() % 10; j > 0; --j) v.push_back(static_cast<char>(rng() % 256));
      if (i % 3 == 0) v = "caf\xc3\xa9 \"x\",\n";  // Valid UTF-8 with specials.
      const std::string record = FormatPair(&ctx, k, v);
      std::string key, value, error;
      ASSERT_TRUE(ParseRecord(format, record, &key, &value, &error)) << format << ": " << error;
      ASSERT_EQ(key, k) << format << " " << record;
      ASSERT_EQ(value, v) << format << " " << record;
    }
  }
}

TEST(FormatTest, Shapes) {
  ShellContext tsv = WithFormat("tsv"), csv = WithFormat("csv"), json = WithFormat("json");
  EXPECT_EQ(FormatPair(&tsv, "a\tb", "c\\d\n"), "a\\tb\tc\\\\d\\n");
  EXPECT_EQ(FormatMissing(&tsv, "k"), "\\N");
  EXPECT_EQ(FormatPair(&csv, "a,b", "say \"hi\""), "\"a,b\",\"say \"\"hi\"\"\"");
  EXPECT_EQ(FormatValue(&csv, "k", ""), "\"\"");
  EXPECT_EQ(FormatMissing(&csv, "k"), "");
  EXPECT_EQ(FormatPair(&json, "k", "\x01\xc3\xa9"), "{\"key\":\"k\",\"value\":\"\\u0001\xc3\xa9\"}");
  EXPECT_EQ(FormatPair(&json, "\xff", "v"), "{\"key_base64\":\"/w==\",\"value\":\"v\"}");
  EXPECT_EQ(FormatMissing(&json, "k"), "{\"key\":\"k\",\"value\":null}");
}

TEST(FormatTest, ParseErrorsAndJsonEscapes) {
  std::string k, v, error;
  EXPECT_FALSE(ParseRecord("tsv", "a\tb\tc", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("tsv", "a\t\\N", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("tsv", "a\tb\\q", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("csv", "a", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("csv", "a,", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("csv", "\"a,b", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("csv", "a,b\"c", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("json", "{\"key\":\"a\"}", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("json", "{\"key\":\"a\",\"value\":\"b\"} x", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("json", "[1]", &k, &v, &error));
  EXPECT_FALSE(ParseRecord("json", "{\"key\":\"a\",\"value_base64\":\"!!\"}", &k, &v, &error));
  ASSERT_TRUE(ParseRecord("json", " { \"value\" : \"\\u00e9\\ud83d\\ude00\\/\" , \"key\":\"k\" } ",
                          &k, &v, &error))
      << error;
  EXPECT_EQ(k, "k");
  EXPECT_EQ(v, "\xc3\xa9\xf0\x9f\x98\x80/");
}

TEST(SplitOptionsTest, DeclaredOptionsOnly) {
  const CommandSpec* scan = FindCommand("SCAN");
  ASSERT_NE(scan, nullptr);
  std::vector<Arg> positional;
  std::map<std::string, std::string> opts;
  std::string error;
  std::vector<Arg> args = {{"scan", false}, {"a", false}, {"--limit", false}, {"3", false},
                           {"--reverse", false}, {"--format=json", false}, {"--x", true},
                           {"--", false}, {"--y", false}};
  ASSERT_TRUE(SplitOptions(*scan, args, &positional, &opts, &error)) << error;
  ASSERT_EQ(positional.size(), 4u);
  EXPECT_EQ(positional[1].value, "a");
  EXPECT_EQ(positional[2].value, "--x");  // Quoted: a key.
  EXPECT_EQ(positional[3].value, "--y");  // After --: a key.
  EXPECT_EQ(opts, (std::map<std::string, std::string>{
                      {"--limit", "3"}, {"--reverse", ""}, {"--format", "json"}}));
  args = {{"scan", false}, {"--reverse=1", false}};
  EXPECT_FALSE(SplitOptions(*scan, args, &positional, &opts, &error));
  EXPECT_EQ(error, "scan: --reverse takes no value");
  args = {{"scan", false}, {"--limit", false}};
  EXPECT_FALSE(SplitOptions(*scan, args, &positional, &opts, &error));
  EXPECT_EQ(error, "scan: --limit needs a value");
  const CommandSpec* get = FindCommand("get");
  args = {{"get", false}, {"--prefix", false}, {"p", false}};
  EXPECT_FALSE(SplitOptions(*get, args, &positional, &opts, &error));
  EXPECT_NE(error.find("get: unknown option --prefix (it takes --format F;"), std::string::npos)
      << error;
}

TEST(SuggestTest, TyposOnly) {
  EXPECT_EQ(SuggestCommand("gte"), "get");
  EXPECT_EQ(SuggestCommand("chekpoint"), "checkpoint");
  EXPECT_EQ(SuggestCommand("SCNA"), "scan");
  EXPECT_EQ(SuggestCommand("dle"), "del");
  EXPECT_EQ(SuggestCommand("frobnicate"), "");
  EXPECT_EQ(SuggestCommand("x"), "");
  EXPECT_EQ(SuggestCommand("get"), "");  // Not a typo.
}

}  // namespace shell_format_test
}  // namespace ringdb::shell
