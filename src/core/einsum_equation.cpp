#include "core/einsum_equation.h"

#include <algorithm>
#include <array>
#include <string>

namespace kiln {
namespace {

constexpr size_t kLetterCount = 52;  // a-z then A-Z
constexpr std::string_view kEllipsis = "...";
constexpr size_t kNoLabel = SIZE_MAX;

// 0-25 for a-z, 26-51 for A-Z, kNoLabel otherwise.
size_t letter_index(char c) {
  if (c >= 'a' && c <= 'z') return static_cast<size_t>(c - 'a');
  if (c >= 'A' && c <= 'Z') return static_cast<size_t>(c - 'A') + kLetterCount / 2;
  return kNoLabel;
}

// One term ("ij", "...k"): the letters before and after the ellipsis.
struct Term {
  std::vector<size_t> letters_before;
  std::vector<size_t> letters_after;
  bool has_ellipsis = false;
};

Result<Term> parse_term(std::string_view text, const std::string& what) {
  Term term;
  size_t i = 0;
  while (i < text.size()) {
    if (text.substr(i, kEllipsis.size()) == kEllipsis) {
      if (term.has_ellipsis) return invalid_argument("Einsum equation: " + what + " has more than one '...'");
      term.has_ellipsis = true;
      i += kEllipsis.size();
      continue;
    }
    size_t letter = letter_index(text[i]);
    if (letter == kNoLabel)
      return invalid_argument("Einsum equation: " + what + " has invalid character '" + std::string(1, text[i]) +
                              "' (expected letters or '...')");
    (term.has_ellipsis ? term.letters_after : term.letters_before).push_back(letter);
    ++i;
  }
  return term;
}

std::string strip_spaces(std::string_view text) {
  std::string out;
  for (char c : text)
    if (c != ' ') out.push_back(c);
  return out;
}

}  // namespace

Result<EinsumEquation> parse_einsum_equation(std::string_view equation, const std::vector<size_t>& input_ranks) {
  const std::string eq = strip_spaces(equation);
  const size_t arrow = eq.find("->");
  const bool explicit_output = arrow != std::string::npos;
  const std::string lhs = explicit_output ? eq.substr(0, arrow) : eq;
  const std::string rhs = explicit_output ? eq.substr(arrow + 2) : std::string();
  if (rhs.find("->") != std::string::npos) return invalid_argument("Einsum equation '" + eq + "' has more than one '->'");

  std::vector<Term> terms;
  size_t start = 0;
  while (true) {
    size_t comma = lhs.find(',', start);
    std::string_view text = std::string_view(lhs).substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    KILN_ASSIGN_OR_RETURN(Term term, parse_term(text, "operand " + std::to_string(terms.size())));
    terms.push_back(std::move(term));
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  if (terms.size() != input_ranks.size())
    return invalid_argument("Einsum equation '" + eq + "' names " + std::to_string(terms.size()) +
                            " operands but the node has " + std::to_string(input_ranks.size()) + " inputs");

  // Ellipsis dims per operand, and the widest ellipsis (the broadcast rank).
  size_t ellipsis_rank = 0;
  std::vector<size_t> operand_ellipsis(terms.size(), 0);
  for (size_t t = 0; t < terms.size(); ++t) {
    const size_t letters = terms[t].letters_before.size() + terms[t].letters_after.size();
    if (terms[t].has_ellipsis ? input_ranks[t] < letters : input_ranks[t] != letters)
      return invalid_argument("Einsum equation '" + eq + "': operand " + std::to_string(t) + " has rank " +
                              std::to_string(input_ranks[t]) + " but its term has " + std::to_string(letters) +
                              " letters" + (terms[t].has_ellipsis ? " (plus '...')" : ""));
    if (terms[t].has_ellipsis) operand_ellipsis[t] = input_ranks[t] - letters;
    ellipsis_rank = std::max(ellipsis_rank, operand_ellipsis[t]);
  }

  // Labels: letters first (0..51), then the ellipsis dims.
  EinsumEquation result;
  result.num_labels = kLetterCount + ellipsis_rank;
  std::array<size_t, kLetterCount> letter_count{};
  for (size_t t = 0; t < terms.size(); ++t) {
    std::vector<size_t> labels = terms[t].letters_before;
    for (size_t d = 0; d < operand_ellipsis[t]; ++d) labels.push_back(kLetterCount + ellipsis_rank - operand_ellipsis[t] + d);
    labels.insert(labels.end(), terms[t].letters_after.begin(), terms[t].letters_after.end());
    for (size_t l : terms[t].letters_before) ++letter_count[l];
    for (size_t l : terms[t].letters_after) ++letter_count[l];
    result.inputs.push_back(std::move(labels));
  }

  if (explicit_output) {
    KILN_ASSIGN_OR_RETURN(Term out, parse_term(rhs, "the output"));
    std::array<bool, kLetterCount> seen{};
    for (const std::vector<size_t>* part : {&out.letters_before, &out.letters_after}) {
      for (size_t l : *part) {
        if (letter_count[l] == 0)
          return invalid_argument("Einsum equation '" + eq + "': output letter does not appear in any operand");
        if (seen[l]) return invalid_argument("Einsum equation '" + eq + "': output repeats a letter");
        seen[l] = true;
      }
    }
    if (!out.has_ellipsis && ellipsis_rank > 0)
      return invalid_argument("Einsum equation '" + eq + "': operands use '...' but the output does not");
    result.output = out.letters_before;
    if (out.has_ellipsis)
      for (size_t d = 0; d < ellipsis_rank; ++d) result.output.push_back(kLetterCount + d);
    result.output.insert(result.output.end(), out.letters_after.begin(), out.letters_after.end());
  } else {
    for (size_t d = 0; d < ellipsis_rank; ++d) result.output.push_back(kLetterCount + d);
    // Alphabetical in ASCII order (upper case before lower case), as numpy does.
    for (size_t i = 0; i < kLetterCount; ++i) {
      const size_t l = (i + kLetterCount / 2) % kLetterCount;
      if (letter_count[l] == 1) result.output.push_back(l);
    }
  }
  return result;
}

}  // namespace kiln
