// shim.cpp - implementation of the plain-C RE2 API declared in cre2shim.h.
//
// Every entry point catches all C++ exceptions (std::bad_alloc in practice)
// and reports them through its return value.

#include "cre2shim.h"

#include <re2/filtered_re2.h>
#include <re2/re2.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <string>
#include <utility>
#include <vector>

struct cre2_regex {
    std::unique_ptr<re2::RE2> re;
    int num_groups = 0;
    // names[i] is the name of group i; has_name[i] says whether it has one.
    std::vector<std::string> names;
    std::vector<char> has_name;
};

struct cre2_literals {
    int can_prefilter = 0;
    int exact = 1;
    std::vector<std::string> atoms;
    std::vector<std::vector<int>> clauses;
};

namespace {

// Copies `s` into a malloc'ed NUL-terminated string (NULL if out of memory).
char *dup_string(const std::string &s) {
    char *out = static_cast<char *>(std::malloc(s.size() + 1));
    if (out == nullptr) return nullptr;
    std::memcpy(out, s.data(), s.size());
    out[s.size()] = '\0';
    return out;
}

void set_error(char **error_out, const char *message) {
    if (error_out == nullptr) return;
    try {
        *error_out = dup_string(std::string(message));
    } catch (...) {
        *error_out = nullptr;
    }
}

void set_error(char **error_out, const std::string &message) {
    if (error_out == nullptr) return;
    *error_out = dup_string(message);
}

// RE2 treats StringPiece(NULL, 0) specially (empty submatches become
// indistinguishable from non-participating groups), so never hand it NULL.
const char kEmpty[1] = {'\0'};

inline const char *text_base(const char *text) {
    return text != nullptr ? text : kEmpty;
}

// ---------------------------------------------------------------------------
// Required-literals analysis.
//
// FilteredRE2 does not expose its AND/OR prefilter tree, but it exposes the
// function f(S) = "does the regexp pass the prefilter when exactly the atoms
// in S were found in the text" (AllPotentials). That function is monotone,
// so its minimal true sets are exactly the clauses of the (minimal) DNF of
// the prefilter formula. They are enumerated by probing f:
//   * greedily shrinking a true set yields a minimal true set M;
//   * every other minimal true set misses some element m of M, so it lies in
//     one of the universes U \ {m}, which are explored in turn.
// The number of probes and clauses is bounded; when the bound is hit the
// result degrades to the conjunction of the atoms that every clause needs.
class PrefilterProber {
public:
    PrefilterProber(const re2::FilteredRE2 &filter, int atom_count,
                    long probe_budget)
        : filter_(filter), n_(atom_count), budget_(probe_budget) {
        indices_.reserve(static_cast<size_t>(atom_count));
    }

    bool exhausted() const { return exhausted_; }

    // f(set); when the budget runs out, marks the prober exhausted and
    // returns true (callers stop as soon as exhausted() is set).
    bool passes(const std::vector<char> &set) {
        if (budget_ <= 0) {
            exhausted_ = true;
            return true;
        }
        --budget_;
        indices_.clear();
        for (int i = 0; i < n_; ++i)
            if (set[static_cast<size_t>(i)]) indices_.push_back(i);
        filter_.AllPotentials(indices_, &regexps_);
        return !regexps_.empty();
    }

private:
    const re2::FilteredRE2 &filter_;
    int n_;
    long budget_;
    bool exhausted_ = false;
    std::vector<int> indices_;
    std::vector<int> regexps_;
};

const long kProbeBudget = 20000;
const size_t kMaxClauses = 256;

// Fills lits->clauses (indices into `atoms`) and lits->exact.
// Precondition: f(all atoms) is true and f(empty) is false.
void enumerate_dnf(PrefilterProber &prober, int n, cre2_literals *lits) {
    const size_t un = static_cast<size_t>(n);
    std::vector<char> all(un, 1);

    // Atoms required by every clause: removing one of them alone fails.
    std::vector<char> required(un, 0);
    for (size_t i = 0; i < un; ++i) {
        all[i] = 0;
        if (!prober.passes(all)) required[i] = 1;
        all[i] = 1;
    }
    std::vector<std::vector<int>> clauses;
    bool exact = false;

    if (!prober.exhausted()) {
        if (prober.passes(required) && !prober.exhausted()) {
            // f is exactly the conjunction of the required atoms.
            clauses.emplace_back();
            for (size_t i = 0; i < un; ++i)
                if (required[i]) clauses.back().push_back(static_cast<int>(i));
            exact = true;
        } else if (!prober.exhausted()) {
            std::set<std::vector<char>> visited;
            std::set<std::vector<char>> found;
            std::vector<std::vector<char>> work;
            work.push_back(all);
            while (!work.empty() && !prober.exhausted()) {
                std::vector<char> universe = std::move(work.back());
                work.pop_back();
                if (!visited.insert(universe).second) continue;
                if (!prober.passes(universe)) continue;
                std::vector<char> minimal = universe;
                for (size_t i = 0; i < un && !prober.exhausted(); ++i) {
                    if (!minimal[i] || required[i]) continue;
                    minimal[i] = 0;
                    if (!prober.passes(minimal)) minimal[i] = 1;
                }
                if (prober.exhausted()) break;
                found.insert(minimal);
                if (found.size() > kMaxClauses) break;
                for (size_t i = 0; i < un; ++i) {
                    // Removing a required atom can never leave a true set.
                    if (!minimal[i] || required[i]) continue;
                    std::vector<char> next = universe;
                    next[i] = 0;
                    if (visited.find(next) == visited.end())
                        work.push_back(std::move(next));
                }
            }
            if (work.empty() && !prober.exhausted() &&
                found.size() <= kMaxClauses) {
                exact = true;
                for (const auto &set : found) {
                    clauses.emplace_back();
                    for (size_t i = 0; i < un; ++i)
                        if (set[i]) clauses.back().push_back(static_cast<int>(i));
                }
            }
        }
    }

    if (!exact) {
        clauses.clear();
        std::vector<int> conj;
        for (size_t i = 0; i < un; ++i)
            if (required[i]) conj.push_back(static_cast<int>(i));
        if (!conj.empty()) clauses.push_back(std::move(conj));
    }
    lits->exact = exact ? 1 : 0;
    lits->clauses = std::move(clauses);
}

// Keeps only atoms used by some clause, sorts them, and renumbers clauses.
void normalize_literals(cre2_literals *lits) {
    std::set<int> used;
    for (const auto &c : lits->clauses) used.insert(c.begin(), c.end());
    std::vector<std::pair<std::string, int>> order;
    order.reserve(used.size());
    for (int i : used) order.emplace_back(lits->atoms[static_cast<size_t>(i)], i);
    std::sort(order.begin(), order.end());
    std::map<int, int> remap;
    std::vector<std::string> atoms;
    atoms.reserve(order.size());
    for (size_t k = 0; k < order.size(); ++k) {
        remap[order[k].second] = static_cast<int>(k);
        atoms.push_back(std::move(order[k].first));
    }
    for (auto &c : lits->clauses) {
        for (int &i : c) i = remap[i];
        std::sort(c.begin(), c.end());
    }
    std::sort(lits->clauses.begin(), lits->clauses.end(),
              [](const std::vector<int> &a, const std::vector<int> &b) {
                  if (a.size() != b.size()) return a.size() < b.size();
                  return a < b;
              });
    lits->atoms = std::move(atoms);
    if (lits->clauses.empty()) {
        lits->can_prefilter = 0;
        lits->atoms.clear();
    }
}

}  // namespace

extern "C" {

void cre2_options_init(cre2_options *options) {
    if (options == nullptr) return;
    options->case_insensitive = 0;
    options->longest_match = 0;
    options->latin1 = 0;
    options->max_mem = 0;
}

cre2_regex *cre2_compile(const char *pattern, size_t pattern_len,
                         const cre2_options *options, char **error_out) {
    if (error_out != nullptr) *error_out = nullptr;
    if (pattern == nullptr && pattern_len != 0) {
        set_error(error_out, "pattern pointer is NULL");
        return nullptr;
    }
    try {
        cre2_options opts;
        cre2_options_init(&opts);
        if (options != nullptr) opts = *options;

        re2::RE2::Options ro;
        ro.set_log_errors(false);
        ro.set_case_sensitive(opts.case_insensitive == 0);
        ro.set_longest_match(opts.longest_match != 0);
        ro.set_encoding(opts.latin1 != 0 ? re2::RE2::Options::EncodingLatin1
                                         : re2::RE2::Options::EncodingUTF8);
        if (opts.max_mem > 0) ro.set_max_mem(opts.max_mem);

        std::unique_ptr<cre2_regex> handle(new cre2_regex());
        handle->re.reset(new re2::RE2(
            re2::StringPiece(text_base(pattern), pattern_len), ro));
        if (!handle->re->ok()) {
            std::string message = handle->re->error();
            if (message.empty()) message = "unknown error";
            set_error(error_out, message);
            return nullptr;
        }
        int groups = handle->re->NumberOfCapturingGroups();
        if (groups < 0) groups = 0;
        handle->num_groups = groups;
        handle->names.assign(static_cast<size_t>(groups) + 1, std::string());
        handle->has_name.assign(static_cast<size_t>(groups) + 1, 0);
        for (const auto &entry : handle->re->CapturingGroupNames()) {
            if (entry.first < 1 || entry.first > groups) continue;
            handle->names[static_cast<size_t>(entry.first)] = entry.second;
            handle->has_name[static_cast<size_t>(entry.first)] = 1;
        }
        return handle.release();
    } catch (const std::bad_alloc &) {
        set_error(error_out, "out of memory while compiling the pattern");
    } catch (const std::exception &e) {
        set_error(error_out, e.what());
    } catch (...) {
        set_error(error_out, "unknown C++ exception while compiling the pattern");
    }
    return nullptr;
}

void cre2_free(cre2_regex *re) {
    try {
        delete re;
    } catch (...) {
    }
}

void cre2_string_free(char *s) { std::free(s); }

int cre2_num_groups(const cre2_regex *re) {
    return re != nullptr ? re->num_groups : 0;
}

const char *cre2_group_name(const cre2_regex *re, int index) {
    if (re == nullptr || index < 1 || index > re->num_groups) return nullptr;
    const size_t i = static_cast<size_t>(index);
    return re->has_name[i] ? re->names[i].c_str() : nullptr;
}

int cre2_full_match(const cre2_regex *re, const char *text, size_t len) {
    if (re == nullptr || (text == nullptr && len != 0)) return 0;
    try {
        return re->re->Match(re2::StringPiece(text_base(text), len), 0, len,
                             re2::RE2::ANCHOR_BOTH, nullptr, 0)
                   ? 1
                   : 0;
    } catch (...) {
        return 0;
    }
}

int cre2_partial_match(const cre2_regex *re, const char *text, size_t len) {
    if (re == nullptr || (text == nullptr && len != 0)) return 0;
    try {
        return re->re->Match(re2::StringPiece(text_base(text), len), 0, len,
                             re2::RE2::UNANCHORED, nullptr, 0)
                   ? 1
                   : 0;
    } catch (...) {
        return 0;
    }
}

int cre2_match(const cre2_regex *re, const char *text, size_t len,
               size_t start, int64_t *ranges, int nranges) {
    if (re == nullptr || nranges < 0 || (nranges > 0 && ranges == nullptr) ||
        (text == nullptr && len != 0))
        return -1;
    for (int i = 0; i < 2 * nranges; ++i) ranges[i] = -1;
    if (start > len) return 0;
    try {
        const char *base = text_base(text);
        const int nsub = std::min(nranges, re->num_groups + 1);
        re2::StringPiece stack_subs[16];
        std::vector<re2::StringPiece> heap_subs;
        re2::StringPiece *subs = stack_subs;
        if (nsub > 16) {
            heap_subs.resize(static_cast<size_t>(nsub));
            subs = heap_subs.data();
        }
        const bool matched =
            re->re->Match(re2::StringPiece(base, len), start, len,
                          re2::RE2::UNANCHORED, nsub > 0 ? subs : nullptr, nsub);
        if (!matched) return 0;
        for (int i = 0; i < nsub; ++i) {
            const re2::StringPiece &sp = subs[i];
            if (sp.data() == nullptr) continue;
            const int64_t begin = static_cast<int64_t>(sp.data() - base);
            ranges[2 * i] = begin;
            ranges[2 * i + 1] = begin + static_cast<int64_t>(sp.size());
        }
        return 1;
    } catch (...) {
        for (int i = 0; i < 2 * nranges; ++i) ranges[i] = -1;
        return -1;
    }
}

cre2_literals *cre2_required_literals(const cre2_regex *re, int min_atom_len,
                                      char **error_out) {
    if (error_out != nullptr) *error_out = nullptr;
    if (re == nullptr) {
        set_error(error_out, "regex handle is NULL");
        return nullptr;
    }
    try {
        std::unique_ptr<cre2_literals> lits(new cre2_literals());
        re2::FilteredRE2 filter(min_atom_len < 1 ? 1 : min_atom_len);
        int id = -1;
        re2::RE2::Options options = re->re->options();
        options.set_log_errors(false);
        const re2::RE2::ErrorCode code =
            filter.Add(re->re->pattern(), options, &id);
        if (code != re2::RE2::NoError || id != 0) {
            set_error(error_out, "could not re-compile the pattern for prefiltering");
            return nullptr;
        }
        std::vector<std::string> atoms;
        filter.Compile(&atoms);
        const int n = static_cast<int>(atoms.size());
        lits->atoms = std::move(atoms);

        PrefilterProber prober(filter, n, kProbeBudget);
        std::vector<char> none(static_cast<size_t>(n), 0);
        std::vector<char> all(static_cast<size_t>(n), 1);
        if (n == 0 || prober.passes(none) || !prober.passes(all)) {
            // "Match everything": the regexp is unfiltered (or, defensively,
            // the filter can never pass, which RE2 does not produce).
            lits->can_prefilter = 0;
            lits->exact = 1;
            lits->atoms.clear();
            return lits.release();
        }
        lits->can_prefilter = 1;
        enumerate_dnf(prober, n, lits.get());
        normalize_literals(lits.get());
        return lits.release();
    } catch (const std::bad_alloc &) {
        set_error(error_out, "out of memory during prefilter analysis");
    } catch (const std::exception &e) {
        set_error(error_out, e.what());
    } catch (...) {
        set_error(error_out, "unknown C++ exception during prefilter analysis");
    }
    return nullptr;
}

void cre2_literals_free(cre2_literals *lits) {
    try {
        delete lits;
    } catch (...) {
    }
}

int cre2_literals_can_prefilter(const cre2_literals *lits) {
    return lits != nullptr ? lits->can_prefilter : 0;
}

int cre2_literals_exact(const cre2_literals *lits) {
    return lits != nullptr ? lits->exact : 0;
}

size_t cre2_literals_atom_count(const cre2_literals *lits) {
    return lits != nullptr ? lits->atoms.size() : 0;
}

const char *cre2_literals_atom(const cre2_literals *lits, size_t index) {
    if (lits == nullptr || index >= lits->atoms.size()) return nullptr;
    return lits->atoms[index].c_str();
}

size_t cre2_literals_clause_count(const cre2_literals *lits) {
    return lits != nullptr ? lits->clauses.size() : 0;
}

size_t cre2_literals_clause_size(const cre2_literals *lits, size_t clause) {
    if (lits == nullptr || clause >= lits->clauses.size()) return 0;
    return lits->clauses[clause].size();
}

int cre2_literals_clause_atom(const cre2_literals *lits, size_t clause,
                              size_t k) {
    if (lits == nullptr || clause >= lits->clauses.size() ||
        k >= lits->clauses[clause].size())
        return -1;
    return lits->clauses[clause][k];
}

}  // extern "C"
