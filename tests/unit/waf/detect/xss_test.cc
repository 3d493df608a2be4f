// @detectXSS against attack vectors (tags, handlers, URL schemes, CSS, breaking
// out of attribute values, namespace and case tricks) and benign text that looks
// like markup. The values are what the operator sees after CRS's transformations
// (entities and URL encoding already decoded).
#include "waf/detect/xss.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace rampart::waf::detect {
namespace {

const std::vector<std::string> kAttacks = {
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<script\n>alert(1)</script>",
    "<ScRiPt>alert(document.cookie)</sCrIpT>",
    "\"><script>alert(1)</script>",
    "'><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<x:script xmlns:x=\"http://www.w3.org/1999/xhtml\" src=\"data:,alert(1)\" />",
    "<img src=x onerror=alert(1)>",
    "<img src=x onerror=\"alert(1)\">",
    "<IMG SRC=x ONERROR=alert(1)>",
    "<img/src=\"x\"/onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "<svg/onload=alert(1)>",
    "<body onload=alert(1)>",
    "<xss onbeforehellfreezes=alert(1)>",
    "<div onmouseover='alert(1)'>hover</div>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)>",
    "<marquee onstart=alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "<a href='javascript:alert(1)'>x</a>",
    "<a href=javascript:alert(1)>x</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">x</a>",
    "<a href=\" javascript:alert(1)\">x</a>",
    "<a href=\"java\tscript:alert(1)\">x</a>",
    "<a href=\"java\nscript:alert(1)\">x</a>",
    "<a href=\"\x01javascript:alert(1)\">x</a>",
    "<a href=\"vbscript:msgbox(1)\">x</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">x</a>",
    "<form action=javascript:alert(1)><input type=submit>",
    "<button formaction=javascript:alert(1)>x</button>",
    "<iframe src=//evil.example></iframe>",
    "<iframe srcdoc=\"<script>alert(1)</script>\">",
    "<object data=\"javascript:alert(1)\">",
    "<embed src=//evil.example/x.swf>",
    "<applet code=x.class>",
    "<base href=//evil.example/>",
    "<meta http-equiv=refresh content=\"0;url=javascript:alert(1)\">",
    "<link rel=stylesheet href=//evil.example/x.css>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "<div style=\"width:expression(alert(1))\">",
    "<div style=\"width: expression (alert(1))\">",
    "<div style=\"width:exp/**/ression(alert(1))\">",
    "<div style=\"-moz-binding:url(//evil.example/x.xml#xss)\">",
    "<div style=\"background:url('javascript:alert(1)')\">",
    "<math><maction actiontype=statusline xlink:href=javascript:alert(1)>x</maction></math>",
    "<table background=javascript:alert(1)>",
    "<isindex action=javascript:alert(1) type=image>",
    "<frameset onload=alert(1)>",
    "<template><script>alert(1)</script></template>",
    "\" onmouseover=\"alert(1)",
    "\" onfocus=alert(1) autofocus x=\"",
    "' onmouseover='alert(1)",
    "x onmouseover=alert(1)",
    "\" style=\"background:url(javascript:alert(1))",
    "javascript:alert(1)",
    "  JAVASCRIPT:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:,alert(1)",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>alert(1)//<</script>",
    "<!--><script>alert(1)</script>",
    "<p>hello</p><script>alert(1)</script>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=20 y=20>x</text></a></svg>",
    "<a href=\"#\" onclick=\"alert(1)\">x</a>",
    "<img src=\"x\" onerror=\"eval(atob('YWxlcnQoMSk='))\">",
    "<object classid=clsid:ae24fdae-03c6-11d1-8b76-0080c744f389>",
    "<xml id=x><x><c><![CDATA[<img src=x onerror=alert(1)>]]></c></x></xml>",
    "<portal src=//evil.example>",
    // Added 2026-12-03: more tags and handlers, character references in URLs, breakouts.
    "<ScRiPt>alert(1)</ScRiPt>",
    "<script src=//evil.example/x.js></script>",
    "<script/src=data:,alert(1)>",
    "<img src=\"x\" onerror=\"alert(1)\">",
    "<img/src/onerror=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)>",
    "<a href=\"jav&#x09;ascript:alert(1)\">x</a>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><input type=submit>",
    "<math><a xlink:href=\"javascript:alert(1)\">x</a></math>",
    "<div style=\"background:url(javascript:alert(1))\">",
    "<link rel=stylesheet href=javascript:alert(1)>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">",
    "<base href=\"javascript:alert(1)//\">",
    "'><img src=x onerror=alert(1)>",
    "' onfocus='alert(1)' autofocus='",
    "\" autofocus onfocus=alert(1) x=\"",
    "javascript:alert(document.cookie)",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<isindex type=image src=1 onerror=alert(1)>",
    "<x onclick=alert(1)>click",
    "<img src=\"x\" onerror=&#97;lert(1)>",
    "<svg><use href=\"data:image/svg+xml,<svg id='x' xmlns='http://www.w3.org/2000/svg'><image href='1' onerror='alert(1)'/></svg>#x\"/></svg>",
    "<style>@import 'javascript:alert(1)';</style>",
    "<table background=\"javascript:alert(1)\">",
    "<img src=`x` onerror=alert(1)>",
    "<a href=\"&#106;avascript:alert(1)\">x</a>",
    "<a href=\"javascript&colon;alert(1)\">x</a>",
    "<a href=\"java&Tab;script:alert(1)\">x</a>",
    // Added 2026-12-03 from a differential run against libinjection: leading controls written
    // as references; schemes it misses (bare values, livescript:, references in unquoted values).
    "<a href=\" &#14;  javascript:alert(1)\">x</a>",
    "<a href=\"&#32;javascript:alert(1)\">x</a>",
    "<img src=jav&#x09;ascript:alert(document.domain)>",
    "<button formaction=\"livescript:alert(1)\">click</button>",
    "javascript://%0aalert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
};

const std::vector<std::string> kBenign = {
    "",
    "hello world",
    "It's a beautiful day, isn't it?",
    "O'Brien and O'Neill went to the shop",
    "<b>bold</b> and <i>italic</i>",
    "<p class=\"intro\">Hello</p>",
    "<a href=\"https://example.com/path?x=1\">link</a>",
    "<a href=\"/relative/page\">link</a>",
    "<img src=\"/images/logo.png\" alt=\"logo\">",
    "<img src=\"data:image/png;base64,iVBORw0KGgo=\" alt=x>",
    "a < b and c > d",
    "if (x < 10 && y > 2) return;",
    "I <3 you",
    "3 < 4",
    "<john.doe@example.com>",
    "John Doe <john@example.com>",
    "price: 5 < 10 EUR",
    "x=1&y=2",
    "{\"name\": \"x\", \"value\": 1}",
    "# Title\n\n* item one\n* item two",
    "the onboarding team meets on Monday",
    "online only",
    "on sale now",
    "once upon a time",
    "javascript is a programming language",
    "learn JavaScript: the good parts",
    "data: the new oil",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg==",
    "mailto:someone@example.com",
    "https://example.com/?q=script",
    "script",
    "description of the script tag in HTML",
    "<!-- a comment -->",
    "<?xml version=\"1.0\"?><root><a>1</a></root>",
    "<br/>",
    "<hr>",
    "<ul><li>one</li><li>two</li></ul>",
    "<table><tr><td>1</td></tr></table>",
    "<div style=\"color: red; font-weight: bold\">x</div>",
    "<span title=\"it's fine\">x</span>",
    "He said \"hello\" and left",
    "5' 10\" tall",
    "width=\"100\" height=\"50\"",
    "\" class=\"big\"",
    "' title='x'",
    "on=1",
    "one=two",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "sessionid=k3J9xQ2mZp7LwT4vB8nR1cY6hF0sD5aE",
    "2026-11-24T02:05:35Z",
    "C:\\Program Files\\App",
    "SELECT * FROM users",
    "<3 <3 <3",
    "<>",
    "< script",
    "</p>",
    "a<b",
    "<em>stress</em> on the word",
    "<code>onclick</code> is an attribute",
    // Added 2026-12-03: markup and prose with <, >, on*, javascript in text.
    "<p>Hello, world</p>",
    "x<y",
    "if (a<b) return;",
    "<3",
    "Use the <br> tag for line breaks",
    "email me at <john@example.com>",
    "The onload event fires when the page loads",
    "Click the link to continue",
    "javascript is fun",
    "I wrote about JavaScript: the good parts",
    "See https://example.com/path?a=1&b=2",
    "<a href=\"https://example.com\">example</a>",
    "<img src=\"cat.jpg\" alt=\"a cat\">",
    "5 > 3",
    "The expression (x+1) is positive",
    "style=\"color:red\"",
    "Data: 42",
    "function() { return 1; }",
    "<code>console.log(\"hi\")</code> is how you print",
    "<a href=\"https://example.com/?a=1&amp;b=2\">link</a>",
    "Fish &amp; chips &#38; more",
    // Added 2026-12-03: what libinjection flags and a browser does not run. An unquoted
    // value runs to the next whitespace, so "src=x/onerror=..." is one value and
    // "formaction=java<TAB>script:" is the value "java"; references are case-sensitive;
    // "<svgonload=...>" is an unknown element with no attributes.
    "<img src=x/onerror=alert(1)>",
    "<form style=x/onblur = confirm(1)>x</form>",
    "<button formaction=java\tscript:alert(1)>click</button>",
    "<img src=javascript\t:void(0);alert(1)>",
    "<A HREF=JAVASCRIPT&COLON;alert&LPAR;1&RPAR;>CLICK</A>",
    "<svgonload=alert(1)>",
    "<span style=\"color:#333\">x</span>",
    "<a href=\"https://x/&#32;javascript:a\">x</a>",
};

TEST(DetectXss, Attacks) {
  size_t hits = 0;
  for (const auto& a : kAttacks) {
    bool got = detectXss(a);
    hits += got;
    EXPECT_TRUE(got) << a;
  }
  std::printf("xss attacks: %zu of %zu detected\n", hits, kAttacks.size());
}

TEST(DetectXss, Benign) {
  size_t fps = 0;
  for (const auto& b : kBenign) {
    bool got = detectXss(b);
    fps += got;
    EXPECT_FALSE(got) << b;
  }
  std::printf("xss benign: %zu false positives of %zu\n", fps, kBenign.size());
}

TEST(DetectXss, LongInputsAreLinear) {
  // Many quotes, tags and attribute starts: each context is one pass.
  std::string s;
  for (int i = 0; i < 20000; ++i) s += "<b a=\"x\" '";
  EXPECT_FALSE(detectXss(s));
  s += "<img src=x onerror=alert(1)>";
  EXPECT_TRUE(detectXss(s));
  std::string nul(100000, '\0');
  EXPECT_FALSE(detectXss(nul));
  // An unclosed-looking comment opened at every step of a style value, closed at the end:
  // each needle is one pass over the value.
  std::string style = "<a style=\"";
  for (int i = 0; i < 200000; ++i) style += "e/*";
  style += "*/\">";
  EXPECT_FALSE(detectXss(style));
  EXPECT_TRUE(detectXss(style + "<a style=\"x:exp/**/ression(alert(1))\">"));
}

}  // namespace
}  // namespace rampart::waf::detect
