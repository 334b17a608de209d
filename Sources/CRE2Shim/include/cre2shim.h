/*
 * cre2shim.h - a small, plain-C API over RE2 for use from Swift.
 *
 * Conventions:
 *  - Text is passed as (pointer, length) and is never copied. A NULL pointer
 *    is accepted when the length is 0.
 *  - Strings returned through `char **error_out` are heap allocated and must
 *    be released with cre2_string_free().
 *  - No C++ exception ever crosses this boundary; failures are reported
 *    through return values.
 *  - A compiled cre2_regex is immutable and may be used concurrently from
 *    any number of threads (RE2 objects are thread-safe for matching).
 */
#ifndef STRATA_CRE2SHIM_H
#define STRATA_CRE2SHIM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque compiled regular expression. */
typedef struct cre2_regex cre2_regex;

/* Opaque result of a required-literals analysis. */
typedef struct cre2_literals cre2_literals;

typedef struct cre2_options {
    /* Non-zero: match letters case-insensitively. Default 0. */
    int case_insensitive;
    /* Non-zero: leftmost-longest (POSIX) semantics instead of leftmost-first.
     * Default 0. */
    int longest_match;
    /* Non-zero: treat pattern and text as Latin-1 instead of UTF-8.
     * Default 0 (UTF-8). */
    int latin1;
    /* Memory budget for the compiled program and its DFA caches, in bytes.
     * <= 0 selects RE2's default (8 MiB). */
    int64_t max_mem;
} cre2_options;

/* Fills `options` with the defaults described above. */
void cre2_options_init(cre2_options *options);

/*
 * Compiles `pattern` (pattern_len bytes, need not be NUL-terminated).
 * `options` may be NULL for the defaults.
 * On success returns a handle to release with cre2_free().
 * On failure returns NULL and, if error_out is not NULL, stores a message
 * (RE2's error text, e.g. "missing ): (abc") in *error_out that the caller
 * must release with cre2_string_free().
 */
cre2_regex *cre2_compile(const char *pattern, size_t pattern_len,
                         const cre2_options *options, char **error_out);

/* Releases a handle returned by cre2_compile(). NULL is ignored. */
void cre2_free(cre2_regex *re);

/* Releases a string returned by this API. NULL is ignored. */
void cre2_string_free(char *s);

/* Number of capturing groups (not counting the implicit group 0). */
int cre2_num_groups(const cre2_regex *re);

/*
 * Name of capturing group `index` (1-based), as a NUL-terminated string
 * owned by `re` (valid as long as `re` lives), or NULL when the group is
 * unnamed or `index` is out of range.
 */
const char *cre2_group_name(const cre2_regex *re, int index);

/* 1 if the whole of text[0, len) matches, 0 otherwise. */
int cre2_full_match(const cre2_regex *re, const char *text, size_t len);

/* 1 if some substring of text[0, len) matches (a search), 0 otherwise. */
int cre2_partial_match(const cre2_regex *re, const char *text, size_t len);

/*
 * Finds the first (leftmost) match that starts at or after byte offset
 * `start` in text[0, len). The whole text is used as context, so `^`, `\b`
 * etc. behave as if the search began at offset 0; this lets callers iterate
 * over all matches by calling again with a larger `start`.
 *
 * `ranges` receives `nranges` (begin, end) byte-offset pairs, i.e. it must
 * have room for 2 * nranges int64_t values: pair 0 is the whole match, pair i
 * is capturing group i. A group that did not participate in the match gets
 * (-1, -1), as do pairs beyond cre2_num_groups(). `ranges` may be NULL when
 * nranges is 0 (then only the existence of a match is reported; that is the
 * fastest mode).
 *
 * Returns 1 on match, 0 on no match (also when start > len), -1 on an
 * internal error (invalid arguments or an exception).
 */
int cre2_match(const cre2_regex *re, const char *text, size_t len,
               size_t start, int64_t *ranges, int nranges);

/*
 * Required-literals analysis using RE2's prefilter (re2::FilteredRE2).
 *
 * Atoms are literal strings of at least `min_atom_len` bytes (values < 1 are
 * treated as 1), lowercased by RE2. The prefilter is a monotone AND/OR
 * formula over the atoms: a text can only match the regex if the formula is
 * satisfied when "atom is true" means "the lowercased text contains the
 * atom". This function flattens the formula into disjunctive normal form:
 * a list of clauses, each a list of atom indices; the text can only match if
 * for at least one clause it contains every atom of that clause.
 *
 * On success returns a handle to release with cre2_literals_free(); on
 * failure returns NULL and stores a message in *error_out (if not NULL).
 */
cre2_literals *cre2_required_literals(const cre2_regex *re, int min_atom_len,
                                      char **error_out);

/* Releases a handle returned by cre2_required_literals(). NULL is ignored. */
void cre2_literals_free(cre2_literals *lits);

/*
 * 1 if the pattern can be prefiltered. 0 if RE2's prefilter is "match
 * everything" (e.g. `.*`, or every literal is shorter than min_atom_len):
 * then every text is a candidate, and there are no atoms and no clauses.
 */
int cre2_literals_can_prefilter(const cre2_literals *lits);

/*
 * 1 if the clauses are the exact DNF of RE2's prefilter.
 * 0 if the DNF was too large to enumerate; then there is a single clause
 * holding the atoms that every alternative requires (a weaker but still
 * valid necessary condition), or no clause at all (and can_prefilter is 0)
 * when no atom is required by every alternative.
 */
int cre2_literals_exact(const cre2_literals *lits);

/* Number of atoms, and atom i as a NUL-terminated string owned by `lits`. */
size_t cre2_literals_atom_count(const cre2_literals *lits);
const char *cre2_literals_atom(const cre2_literals *lits, size_t index);

/* Number of DNF clauses; size of clause c; atom index k of clause c.
 * Out-of-range arguments yield 0 (sizes/counts) or -1 (atom index). */
size_t cre2_literals_clause_count(const cre2_literals *lits);
size_t cre2_literals_clause_size(const cre2_literals *lits, size_t clause);
int cre2_literals_clause_atom(const cre2_literals *lits, size_t clause,
                              size_t k);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* STRATA_CRE2SHIM_H */
