// @detectXSS: does this value, placed in an HTML page, run script?
//
// The value is read as HTML from each place an application may echo it:
//  - as text (data state): a tag that runs script or loads a document
//    (script, iframe, object, embed, svg, base, meta, style...), any on*
//    attribute inside a tag, a URL attribute (href, src, action, formaction,
//    data, xlink:href...) whose value has a javascript:, vbscript: or script-
//    bearing data: scheme, a style attribute with expression(), url(javascript:)
//    or -moz-binding;
//  - as an attribute value, unquoted, in single quotes or in double quotes:
//    after the value closes, the same attribute checks apply to what follows
//    (an on* attribute must be assigned, `onfoo=`, so that prose like
//    "the onboarding team" stays clean), and a value that is itself a
//    javascript:/vbscript: URL is flagged.
// Schemes are compared the way browsers read them: ASCII case-insensitive,
// ignoring leading whitespace and control bytes and tabs/newlines inside the
// scheme; entities are expected to be decoded by the rule's transformations
// (CRS applies htmlEntityDecode first).
//
// One pass per context over the input (four in all), no allocation, no
// backtracking: linear in the input size.
#pragma once

#include <string_view>

namespace rampart::waf::detect {

bool detectXss(std::string_view input);

}  // namespace rampart::waf::detect
