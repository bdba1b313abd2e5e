#include "oomcast/label_selector.h"

#include <catch2/catch.hpp>

namespace oomcast {
namespace {

using Labels = std::map<std::string, std::string>;

LabelSelector MustParse(std::string_view s) {
  auto sel = LabelSelector::Parse(s);
  INFO(std::string(s) << ": " << sel.status().ToString());
  REQUIRE(sel.ok());
  return *sel;
}

TEST_CASE("empty selector selects everything") {
  auto s = MustParse("");
  CHECK(s.empty());
  CHECK(s.Matches({}));
  CHECK(s.Matches({{"a", "b"}}));
  CHECK(MustParse("   ").empty());
}

TEST_CASE("every operator matches as apimachinery does") {
  const Labels l = {{"app", "backend"}, {"tier", "web"}, {"replicas", "5"}, {"empty", ""}};
  struct Case {
    const char* sel;
    bool want;
  } cases[] = {
      {"app=backend", true},
      {"app==backend", true},
      {"app=frontend", false},
      {"app!=frontend", true},
      {"app!=backend", false},
      {"missing!=x", true},
      {"app in (backend,api)", true},
      {"app in (api)", false},
      {"missing in (x)", false},
      {"app notin (api)", true},
      {"app notin (backend)", false},
      {"missing notin (x)", true},
      {"app", true},
      {"missing", false},
      {"!missing", true},
      {"!app", false},
      {"replicas>4", true},
      {"replicas>5", false},
      {"replicas<6", true},
      {"replicas<5", false},
      {"replicas>0", true},
      {"app>1", false},
      {"missing<10", false},
      {"empty=", true},
      {"empty in ()", true},
      {"app=", false},
      {"app=backend,tier=web", true},
      {"app=backend,tier=db", false},
      {"app in (backend), !missing, replicas < 10", true},
      {"example.com/x", false},
      {"app in (,backend)", true},
  };
  for (const auto& c : cases) {
    INFO(c.sel);
    CHECK(MustParse(c.sel).Matches(l) == c.want);
  }
}

TEST_CASE("MatchesLookup agrees with Matches") {
  auto s = MustParse("app in (a,b),!gone,n>3");
  Labels l = {{"app", "b"}, {"n", "4"}};
  CHECK(s.MatchesLookup([&](std::string_view k) -> const std::string* {
    auto it = l.find(std::string(k));
    return it == l.end() ? nullptr : &it->second;
  }));
  CHECK(s.Matches(l));
}

TEST_CASE("ToString is canonical: sorted by key, sorted values") {
  CHECK(MustParse("z=1,a in (c,b),!m,k,q notin (x),n>3,o<4,p!=v").ToString() ==
        "a in (b,c),k,!m,n>3,o<4,p!=v,q notin (x),z=1");
  CHECK(MustParse("a==b").ToString() == "a=b");
  CHECK(MustParse("a in (b,b)").ToString() == "a in (b)");
}

TEST_CASE("keywords are values in value position") {
  CHECK(MustParse("a=in").Matches({{"a", "in"}}));
  CHECK(MustParse("a in (in,notin)").Matches({{"a", "notin"}}));
}

TEST_CASE("prefixed keys") {
  CHECK(MustParse("oomcast.io/aggregate in (max)").requirements()[0].key == "oomcast.io/aggregate");
  CHECK(MustParse("app.kubernetes.io/name=x").Matches({{"app.kubernetes.io/name", "x"}}));
}

TEST_CASE("bad selectors name the position") {
  struct Case {
    const char* sel;
    const char* needle;
  } cases[] = {
      {"app=(", "position 4"},
      {"=x", "position 0"},
      {"app in a", "position 7"},
      {"app in (a", "position 9"},
      {"app in (a b)", "position 10"},
      {"app,", "position 4"},
      {"app=a b", "position 6"},
      {"replicas>x", "must be an integer"},
      {"replicas>", "must be an integer"},
      {"replicas<1.5", "must be an integer"},
      {"!", "position 1"},
      {"!a=b", "position 2"},
      {"a in", "position 4"},
      {"in=x", "position 0"},
      {"-a=x", "invalid label key"},
      {"a_=x", "invalid label key"},
      {"Example.com/a=x", "prefix"},
      {"/a=x", "prefix"},
      {"a/=x", "name part"},
      {"a/b/c=x", "name part"},
      {"a=-x", "invalid label value"},
      {"a=x_", "invalid label value"},
      {"a=%41", "invalid label value"},
      {"a<<1", "position 2"},
      {"a)", "position 1"},
      // Kubernetes validates the value of < and > as a label value too: no sign.
      {"replicas>-1", "invalid label value"},
  };
  for (const auto& c : cases) {
    auto s = LabelSelector::Parse(c.sel);
    INFO(c.sel << " -> " << s.status().ToString());
    REQUIRE_FALSE(s.ok());
    CHECK(s.status().code() == StatusCode::kInvalidArgument);
    CHECK(s.status().message().find(c.needle) != std::string::npos);
  }
}

TEST_CASE("length limits of keys and values") {
  std::string n63(63, 'a'), n64(64, 'a');
  CHECK(LabelSelector::Parse(n63 + "=" + n63).ok());
  CHECK_FALSE(LabelSelector::Parse(n64 + "=x").ok());
  CHECK_FALSE(LabelSelector::Parse("x=" + n64).ok());
  std::string prefix253 = std::string(63, 'a') + "." + std::string(63, 'b') + "." +
                          std::string(63, 'c') + "." + std::string(61, 'd');
  REQUIRE(prefix253.size() == 253);
  CHECK(LabelSelector::Parse(prefix253 + "/x").ok());
  CHECK_FALSE(LabelSelector::Parse(prefix253 + "d/x").ok());
}

TEST_CASE("integer comparison uses int64") {
  CHECK(MustParse("n>9223372036854775806").Matches({{"n", "9223372036854775807"}}));
  CHECK_FALSE(LabelSelector::Parse("n>9223372036854775808").ok());
  CHECK_FALSE(MustParse("n<10").Matches({{"n", "1e1"}}));
}

TEST_CASE("FromRequirements validates and sorts") {
  std::vector<LabelRequirement> r = {{"b", LabelRequirement::Op::kIn, {"y", "x"}},
                                     {"a", LabelRequirement::Op::kExists, {}}};
  auto s = LabelSelector::FromRequirements(r);
  REQUIRE(s.ok());
  CHECK(s->ToString() == "a,b in (x,y)");
  CHECK_FALSE(LabelSelector::FromRequirements({{"-bad", LabelRequirement::Op::kExists, {}}}).ok());
}

}  // namespace
}  // namespace oomcast
