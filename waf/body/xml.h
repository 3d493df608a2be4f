// XPath over the document kept by parseXml(): the values behind XML:/xpath.
//
// evaluateXPath(result, "/*") returns, for every node the expression selects,
// its string value the way ModSecurity gives it (xmlNodeGetContent): the text
// of an element and all its descendants concatenated, an attribute's value,
// a text node's text. "//@*" gives every attribute value; "/a/b/text()" the
// text nodes. An expression that yields a string, number or boolean gives that
// one value ("count(//b)" -> {"2"}). No document (not XML, or a parse error),
// an invalid expression or an empty node set -> {}.
// Internal entity references are expanded with a budget (kMaxXPathOutput
// bytes in total per call), so a "billion laughs" document that got past the
// parser cannot blow up here; output past the budget is cut.
// `namespaces` are (prefix, URI) pairs registered for the expression
// (ModSecurity's xmlns action), e.g. {{"soap", "http://schemas.xmlsoap.org/soap/envelope/"}}.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "waf/body/body.h"

namespace rampart::waf::body {

inline constexpr size_t kMaxXPathOutput = 16u << 20;  // 16 MiB per evaluateXPath call

std::vector<std::string> evaluateXPath(
    const Result& result, std::string_view xpath,
    const std::vector<std::pair<std::string, std::string>>& namespaces = {});

}  // namespace rampart::waf::body
