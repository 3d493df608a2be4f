// XML body processor (text/xml, application/xml, SOAP), on libxml2.
//
// The document is parsed from memory with XML_PARSE_NONET and without
// XML_PARSE_DTDLOAD / XML_PARSE_NOENT: no external DTD is read, no external
// entity is loaded and internal entities stay references in the tree (libxml2's
// default amplification check rejects "billion laughs" documents while
// parsing; evaluateXPath expands what remains with a budget). On top of that
// a process-wide external entity loader refuses every load unless
// Limits::xml_external_entities is set for the parse in progress (then
// libxml2's no-network loader is used, with DTD loading and entity
// substitution, and still no network).
// The parsed xmlDoc* is kept in Result::xml_doc (freed with xmlFreeDoc) for
// XML:/xpath targets, see xml.h. A document that is not well-formed is an
// error: "XML: Failed parsing document. <libxml2 message>",
// with no document kept (v2 keeps a partial tree; we do not expose it).
// Args: none. ModSecurity v2 puts nothing from XML into ARGS by default
// (SecParseXmlIntoArgs is off); rules reach XML through XML:/xpath only, as
// CRS does with XML:/* and XML://@*.
// Example: parseXml("<a x='1'><b>hi</b></a>", {}) -> xml_doc set, no args;
//   evaluateXPath(r, "/*") -> {"hi"}, evaluateXPath(r, "//@*") -> {"1"}.
#include "waf/body/xml.h"

#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <libxml/xmlerror.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>

#include <climits>
#include <cstdarg>
#include <mutex>
#include <string>

#include "waf/body/body.h"

namespace rampart::waf::body {
namespace {

thread_local bool t_allow_external = false;

xmlParserInputPtr guardedEntityLoader(const char* url, const char* id, xmlParserCtxtPtr ctxt) {
  if (t_allow_external) return xmlNoNetExternalEntityLoader(url, id, ctxt);
  return nullptr;
}

void silentGeneric(void*, const char*, ...) {}
void silentStructured(void*, xmlErrorPtr) {}

void initLibxml() {
  static std::once_flag once;
  std::call_once(once, [] {
    xmlInitParser();
    xmlSetExternalEntityLoader(guardedEntityLoader);
  });
  // Error handlers are per-thread in libxml2: never print to stderr.
  xmlSetGenericErrorFunc(nullptr, silentGeneric);
  xmlSetStructuredErrorFunc(nullptr, silentStructured);
}

std::string trimmed(const char* s) {
  std::string out = s ? s : "";
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

// String value of a node as xmlNodeGetContent computes it, with entity
// references expanded under a byte budget and a nesting limit.
class ContentWriter {
 public:
  explicit ContentWriter(size_t& budget) : budget_(budget) {}

  void node(xmlNodePtr n, std::string& out) {
    switch (n->type) {
      case XML_COMMENT_NODE:
      case XML_PI_NODE:
      case XML_TEXT_NODE:
      case XML_CDATA_SECTION_NODE:
        append(n->content, out);
        return;
      case XML_NAMESPACE_DECL:
        append(reinterpret_cast<xmlNsPtr>(n)->href, out);
        return;
      default:
        children(n, out, 0);
    }
  }

 private:
  void append(const xmlChar* s, std::string& out) {
    if (s == nullptr || budget_ == 0) return;
    std::string_view v(reinterpret_cast<const char*>(s));
    if (v.size() > budget_) v = v.substr(0, budget_);
    out.append(v);
    budget_ -= v.size();
  }

  void children(xmlNodePtr n, std::string& out, int entity_depth) {
    for (xmlNodePtr c = n->children; c != nullptr && budget_ > 0; c = c->next) {
      switch (c->type) {
        case XML_TEXT_NODE:
        case XML_CDATA_SECTION_NODE:
          append(c->content, out);
          break;
        case XML_ELEMENT_NODE:
          children(c, out, entity_depth);
          break;
        case XML_ENTITY_REF_NODE: {
          if (entity_depth >= kMaxEntityDepth) break;
          xmlEntityPtr ent = xmlGetDocEntity(c->doc, c->name);
          if (ent != nullptr) children(reinterpret_cast<xmlNodePtr>(ent), out, entity_depth + 1);
          break;
        }
        default:
          break;
      }
    }
  }

  static constexpr int kMaxEntityDepth = 40;
  size_t& budget_;
};

}  // namespace

Result parseXml(std::string_view body, const Limits& limits) {
  Result result;
  parseXml(body, limits, result);
  return result;
}

// (libxml2 allocates the document whatever is handed to it: nothing reused here.)
void parseXml(std::string_view body, const Limits& limits, Result& result) {
  result.reset();
  initLibxml();
  if (body.size() > static_cast<size_t>(INT_MAX)) {
    result.error = true;
    result.error_msg = "XML: body too large.";
    return;
  }
  xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
  if (ctxt == nullptr) {
    result.error = true;
    result.error_msg = "XML: Failed to create parsing context.";
    return;
  }
  int options = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
  if (limits.xml_external_entities) options |= XML_PARSE_DTDLOAD | XML_PARSE_NOENT;
  t_allow_external = limits.xml_external_entities;
  xmlDocPtr doc =
      xmlCtxtReadMemory(ctxt, body.data(), static_cast<int>(body.size()), "body.xml", nullptr, options);
  t_allow_external = false;
  const bool well_formed = doc != nullptr && ctxt->wellFormed == 1;
  if (!well_formed) {
    result.error = true;
    result.error_msg = "XML: Failed parsing document.";
    if (xmlErrorPtr err = xmlCtxtGetLastError(ctxt); err != nullptr && err->message != nullptr) {
      result.error_msg += " " + trimmed(err->message) + " (line " + std::to_string(err->line) + ")";
    }
    if (doc != nullptr) xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return;
  }
  xmlFreeParserCtxt(ctxt);
  result.xml_doc = std::shared_ptr<void>(doc, [](void* p) { xmlFreeDoc(static_cast<xmlDocPtr>(p)); });
}

std::vector<std::string> evaluateXPath(const Result& result, std::string_view xpath,
                                       const std::vector<std::pair<std::string, std::string>>& namespaces) {
  std::vector<std::string> values;
  if (!result.xml_doc || xpath.empty()) return values;
  initLibxml();
  auto* doc = static_cast<xmlDocPtr>(result.xml_doc.get());
  xmlXPathContextPtr xctx = xmlXPathNewContext(doc);
  if (xctx == nullptr) return values;
  xctx->error = silentStructured;
  for (const auto& [prefix, uri] : namespaces) {
    xmlXPathRegisterNs(xctx, reinterpret_cast<const xmlChar*>(prefix.c_str()),
                       reinterpret_cast<const xmlChar*>(uri.c_str()));
  }
  const std::string expr(xpath);
  xmlXPathObjectPtr obj = xmlXPathEvalExpression(reinterpret_cast<const xmlChar*>(expr.c_str()), xctx);
  if (obj != nullptr) {
    size_t budget = kMaxXPathOutput;
    ContentWriter writer(budget);
    switch (obj->type) {
      case XPATH_NODESET:
        if (obj->nodesetval != nullptr) {
          for (int i = 0; i < obj->nodesetval->nodeNr; ++i) {
            std::string value;
            writer.node(obj->nodesetval->nodeTab[i], value);
            values.push_back(std::move(value));
          }
        }
        break;
      case XPATH_STRING:
        values.emplace_back(obj->stringval ? reinterpret_cast<const char*>(obj->stringval) : "");
        break;
      case XPATH_NUMBER: {
        xmlChar* s = xmlXPathCastNumberToString(obj->floatval);
        values.emplace_back(s ? reinterpret_cast<const char*>(s) : "");
        xmlFree(s);
        break;
      }
      case XPATH_BOOLEAN:
        values.emplace_back(obj->boolval ? "true" : "false");
        break;
      default:
        break;
    }
    xmlXPathFreeObject(obj);
  }
  xmlXPathFreeContext(xctx);
  return values;
}

}  // namespace rampart::waf::body
