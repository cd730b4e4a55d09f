#include "models/graph_rewrite.h"

#include <string>

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/subgraph_matcher.h>
#include <torch/csrc/jit/passes/subgraph_rewrite.h>

namespace facekit::models {

namespace {

constexpr const char* kArgs = "%x, %w, %b, %s, %p, %d, %t, %op, %g, %b1, %b2, %b3, %b4, %y, %alpha";
constexpr const char* kConv = "%c = aten::_convolution(%x, %w, %b, %s, %p, %d, %t, %op, %g, %b1, %b2, %b3, %b4)";

int count(const std::shared_ptr<torch::jit::Graph>& graph, const char* kind) {
  int n = 0;
  for (const torch::jit::Node* node : graph->nodes())
    if (node->kind().toQualString() == std::string(kind)) ++n;
  return n;
}

// Swapping the operands (and writing into the convolution's output) is exact only for
// alpha 1: x + 1 * c == c + 1 * x.
bool alpha_is_one(const torch::jit::Match& match, const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
  const torch::jit::Value* alpha = match.values_map.at(vmap.at("alpha"));
  const auto v = torch::jit::toIValue(alpha);
  return v && ((v->isInt() && v->toInt() == 1) || (v->isDouble() && v->toDouble() == 1.0));
}

}  // namespace

int fuse_residual_additions(std::shared_ptr<torch::jit::Graph>& graph) {
  const int before = count(graph, "aten::_add_relu_") + count(graph, "aten::add_");
  // With the ReLU first, so that its additions are not taken by the pattern without it. The
  // matcher takes only a convolution output used by nothing but the addition, so writing
  // into it is safe.
  for (const bool relu : {true, false}) {
    for (const bool swapped : {false, true}) {
      const std::string add = swapped ? "aten::add(%y, %c, %alpha)" : "aten::add(%c, %y, %alpha)";
      const std::string pattern = std::string("graph(") + kArgs + "):\n  " + kConv + "\n  %r = " + add +
                                  (relu ? "\n  %q = aten::relu(%r)\n  return (%q)\n" : "\n  return (%r)\n");
      const std::string replacement = std::string("graph(") + kArgs + "):\n  " + kConv + "\n  %q = " +
                                      (relu ? "aten::_add_relu_" : "aten::add_") + "(%c, %y, %alpha)\n  return (%q)\n";
      torch::jit::SubgraphRewriter rewriter;
      rewriter.RegisterRewritePattern(pattern, replacement);
      rewriter.runOnGraph(graph, alpha_is_one);
    }
  }
  return count(graph, "aten::_add_relu_") + count(graph, "aten::add_") - before;
}

int fuse_residual_additions(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  return fuse_residual_additions(graph);
}

}  // namespace facekit::models
