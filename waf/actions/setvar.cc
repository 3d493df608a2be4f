// setvar:COLLECTION.NAME=VALUE | =+N | =-N | !COLLECTION.NAME | COLLECTION.NAME
// Sets, adds to, subtracts from or removes a collection variable (TX, IP,
// SESSION, USER, GLOBAL, RESOURCE); key and value are macro-expanded when the
// action runs (once per match, as in v2). Without '=' the value is "1".
//   setvar:'tx.inbound_anomaly_score_pl1=+%{tx.critical_anomaly_score}'
#include <charconv>

#include "waf/actions/actions.h"
#include "waf/operators/operator.h"
#include "waf/transaction_impl.h"

namespace rampart::waf {

namespace actions {

MacroText compileMacroText(std::string_view text) {
  MacroText m;
  m.tx_only = true;
  operators::splitMacros(
      text,
      [&](std::string_view literal) {
        if (m.parts.empty() || m.parts.back().tx) m.parts.push_back({std::string(literal), false});
        else m.parts.back().text.append(literal);
      },
      [&](std::string_view coll, std::string_view key) {
        if (operators::isTxCollection(coll) && !key.empty()) m.parts.push_back({toLower(key), true});
        else m.tx_only = false;  // another variable: expandInto reads it
      });
  return m;
}

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
  out->key_macro = operators::hasMacro(out->key);
  if (!out->key_macro) out->key_lower = toLower(out->key);
  else out->key_text = compileMacroText(out->key);
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
  out->value_macro = operators::hasMacro(out->value);
  if (out->value_macro) out->value_text = compileMacroText(out->value);
  return true;
}

}  // namespace actions

namespace {

// The name a variable keeps: as first written (kept across values), or the
// spelling `name` of a new one when it is not its lower-case key (empty: the
// key itself).
std::string_view nameToKeep(const CollEntry& e, std::string_view lkey, std::string_view name) {
  if (e.p) return e.p->name;
  return name != lkey ? name : std::string_view();
}

}  // namespace

void Transaction::Impl::runSetVar(const actions::SetVar& sv) {
  // Expanded into buffers the transaction keeps: no allocation per setvar once warm.
  std::string& key_buf = setvar_key;
  std::string& lkey_buf = setvar_lkey;
  std::string& value_buf = setvar_value;
  std::string_view key = sv.key, lkey = sv.key_lower;
  if (sv.key_macro) {
    key_buf.clear();
    expandMacro(key_buf, sv.key_text, sv.key);
    key = key_buf;
    lkey = asciiLowered(key_buf, lkey_buf);
  }
  Collection& c = coll(sv.collection);
  if (sv.op == actions::SetVar::Op::Unset) {
    if (Collection::Item* it = c.find(lkey)) {
      if (it->watched) tx_path = false;
      c.erase(*it);
    }
    if (tx_sim_record) tx_sim_record->push_back({true, std::string(lkey), std::string(key), nullptr});
    return;
  }
  std::string_view value = sv.value;
  if (sv.value_macro) {
    value_buf.clear();
    expandMacro(value_buf, sv.value_text, sv.value);
    value = value_buf;
  }
  // Looked up (and added) once the value is expanded: expanding reads the
  // collections, never adds to them, and a variable just added reads as unset.
  Collection::Item& it = c.add(lkey);
  if (it.watched) tx_path = false;  // (only TX has watched variables)
  if (sv.op != actions::SetVar::Op::Set) {
    int64_t cur = it.second.p ? operators::atoiLike(it.second.p->value) : 0;
    int64_t delta = operators::atoiLike(value);
    char num[24];
    auto r = std::to_chars(num, num + sizeof num, sv.op == actions::SetVar::Op::Add ? cur + delta : cur - delta);
    value_buf.assign(num, r.ptr);
    value = value_buf;
  }
  putValue(it.second, lkey, key, value);
  if (tx_sim_record)
    tx_sim_record->push_back({false, std::string(lkey), std::string(key), &tx_sim_values->emplace_back(*it.second.p)});
}

void Transaction::Impl::applyTxOp(const Engine::Impl::TxSimOp& op) {
  Collection& c = txColl();
  if (op.erase) {
    c.erase(op.lkey);
    return;
  }
  CollEntry& e = c.add(op.lkey).second;
  // The value the simulation left, shared, when it has the name putValue would give it here.
  if (nameToKeep(e, op.lkey, op.key) == op.value->name)
    e.p = std::shared_ptr<const CollValue>(std::shared_ptr<const CollValue>(), op.value);
  else putValue(e, op.lkey, op.key, op.value->value);
}

// Values are replaced, not changed, while a rule reads them (pinned): a value
// nobody else holds is changed in place.
void Transaction::Impl::putValue(CollEntry& e, std::string_view lkey, std::string_view name, std::string_view value) {
  if (e.p && e.p.use_count() == 1) {
    const_cast<CollValue&>(*e.p).value.assign(value);  // made non-const by allocate_shared below
    return;
  }
  // In the transaction's arena, as the collections' items (every holder of it
  // is the transaction's; the engine's tx_init takes copies of its own).
  auto nv = std::allocate_shared<CollValue>(std::pmr::polymorphic_allocator<CollValue>(&coll_arena));
  // (The key's own spelling needs no copy: 920450's 12 a request.)
  if (const std::string_view kept = nameToKeep(e, lkey, name); !kept.empty()) nv->name.assign(kept);
  nv->value.assign(value);
  e.p = std::move(nv);
}

// As expandInto(out, text), from the text split when parsed.
void Transaction::Impl::expandMacro(std::string& out, const actions::MacroText& m, std::string_view text) {
  if (!m.tx_only) {
    expandInto(out, text);
    return;
  }
  for (const auto& p : m.parts) {
    if (!p.tx) {
      out.append(p.text);
    } else if (const Collection* tx = txIfMade()) {
      const Collection::Item* e = tx->find(p.text);
      if (e && e->second.p) out.append(e->second.p->value);
    }
  }
}

void Transaction::Impl::setTx(std::string_view lkey, std::string_view value) {
  Collection::Item& it = txColl().add(lkey);
  if (it.watched) tx_path = false;
  putValue(it.second, lkey, lkey, value);
}

}  // namespace rampart::waf
