// setvar:COLLECTION.NAME=VALUE | =+N | =-N | !COLLECTION.NAME | COLLECTION.NAME
// Sets, adds to, subtracts from or removes a collection variable (TX, IP,
// SESSION, USER, GLOBAL, RESOURCE); key and value are macro-expanded when the
// action runs (once per match, as in v2). Without '=' the value is "1".
//   setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'
#include "waf/actions/actions.h"
#include "waf/operators/operator.h"
#include "waf/transaction_impl.h"

namespace rampart::waf {

namespace actions {

bool parseSetVar(const std::string& raw, SetVar* out, std::string* error) {
  std::string_view v = raw;
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  if (!v.empty() && v.front() == '!') {
    out->op = SetVar::Op::Unset;
    v.remove_prefix(1);
  }
  auto eq = v.find('=');
  std::string_view name = v.substr(0, eq);
  auto dot = name.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot + 1 >= name.size()) {
    if (error) *error = "setvar: expected COLLECTION.NAME in '" + raw + "'";
    return false;
  }
  out->collection = toLower(name.substr(0, dot));
  out->key = std::string(name.substr(dot + 1));
  if (out->op == SetVar::Op::Unset) return true;
  if (eq == std::string_view::npos) {
    out->value = "1";
    return true;
  }
  std::string_view val = v.substr(eq + 1);
  if (!val.empty() && val.front() == '+') {
    out->op = SetVar::Op::Add;
    val.remove_prefix(1);
  } else if (!val.empty() && val.front() == '-') {
    out->op = SetVar::Op::Sub;
    val.remove_prefix(1);
  }
  out->value = std::string(val);
  return true;
}

}  // namespace actions

void Transaction::Impl::runSetVar(const actions::SetVar& sv) {
  std::string key = operators::hasMacro(sv.key) ? expand(sv.key) : sv.key;
  std::string lkey = toLower(key);
  Collection& c = coll(sv.collection);
  if (sv.op == actions::SetVar::Op::Unset) {
    c.erase(lkey);
    return;
  }
  std::string value = operators::hasMacro(sv.value) ? expand(sv.value) : sv.value;
  auto& e = c[lkey];
  auto nv = std::make_shared<CollValue>();
  nv->name = e.p ? e.p->name : key;
  if (sv.op == actions::SetVar::Op::Set) {
    nv->value = std::move(value);
  } else {
    int64_t cur = e.p ? operators::atoiLike(e.p->value) : 0;
    int64_t delta = operators::atoiLike(value);
    nv->value = std::to_string(sv.op == actions::SetVar::Op::Add ? cur + delta : cur - delta);
  }
  e.p = std::move(nv);
}

void Transaction::Impl::setTx(std::string_view key, std::string value) {
  auto& e = coll("tx")[toLower(key)];
  auto nv = std::make_shared<CollValue>();
  nv->name = e.p ? e.p->name : std::string(key);
  nv->value = std::move(value);
  e.p = std::move(nv);
}

}  // namespace rampart::waf
