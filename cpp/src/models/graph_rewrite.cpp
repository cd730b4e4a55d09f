#include "models/graph_rewrite.h"

#include <string>
#include <tuple>
#include <vector>

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/ir/subgraph_matcher.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/subgraph_rewrite.h>

#include "models/blaze_block.h"
#include "models/input_conv.h"
#include "models/quantize_kernel.h"
#include "models/separable_conv.h"
#include "models/whole_input_conv.h"

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

// The ints of a list argument: a list constant or a list built from int constants.
c10::optional<std::vector<int64_t>> int_list(const torch::jit::Value* v) {
  if (const auto iv = torch::jit::toIValue(v)) {
    if (iv->isIntList()) return iv->toIntVector();
    return c10::nullopt;
  }
  if (v->node()->kind() != c10::prim::ListConstruct) return c10::nullopt;
  std::vector<int64_t> out;
  for (const torch::jit::Value* in : v->node()->inputs()) {
    const auto iv = torch::jit::toIValue(in);
    if (!iv || !iv->isInt()) return c10::nullopt;
    out.push_back(iv->toInt());
  }
  return out;
}

c10::optional<torch::jit::IValue> constant(const torch::jit::Match& match,
                                           const std::unordered_map<std::string, torch::jit::Value*>& vmap,
                                           const std::string& name) {
  return torch::jit::toIValue(match.values_map.at(vmap.at(name)));
}

bool is_list(const torch::jit::Match& match, const std::unordered_map<std::string, torch::jit::Value*>& vmap,
             const std::string& name, const std::vector<int64_t>& want) {
  const auto got = int_list(match.values_map.at(vmap.at(name)));
  return got && *got == want;
}

bool is_int(const c10::optional<torch::jit::IValue>& v, int64_t want) { return v && v->isInt() && v->toInt() == want; }
bool is_false(const c10::optional<torch::jit::IValue>& v) { return v && v->isBool() && !v->toBool(); }

// The depthwise convolution is 3x3-shaped by its arguments (stride 1, pad 1, groups > 1; its
// weight's shape is checked per call) and the pointwise one 1x1-shaped (stride 1, pad 0,
// groups 1); neither transposed; the addition's alpha 1.
bool is_blaze_block(const torch::jit::Match& match, const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
  const auto g1 = constant(match, vmap, "g1");
  return is_list(match, vmap, "s1", {1, 1}) && is_list(match, vmap, "p1", {1, 1}) &&
         is_list(match, vmap, "d1", {1, 1}) && is_false(constant(match, vmap, "t1")) && g1 && g1->isInt() &&
         g1->toInt() > 1 && is_list(match, vmap, "s2", {1, 1}) && is_list(match, vmap, "p2", {0, 0}) &&
         is_list(match, vmap, "d2", {1, 1}) && is_false(constant(match, vmap, "t2")) &&
         is_int(constant(match, vmap, "g2"), 1) && alpha_is_one(match, vmap);
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

namespace {

// A weight the graph reads as an attribute of the module itself (prim::GetAttr on self).
c10::optional<at::Tensor> module_weight(const torch::jit::Module& module, const torch::jit::Value* v) {
  const torch::jit::Node* n = v->node();
  if (n->kind() != c10::prim::GetAttr || n->input()->node()->kind() != c10::prim::Param) return c10::nullopt;
  const std::string name = n->s(c10::attr::name);
  if (!module.hasattr(name)) return c10::nullopt;
  const auto attr = module.attr(name);
  return attr.isTensor() ? c10::optional<at::Tensor>(attr.toTensor()) : c10::nullopt;
}

int fuse_blocks(std::shared_ptr<torch::jit::Graph>& graph, const torch::jit::Module* module) {
  const std::string args =
      "%x, %wd, %bd, %s1, %p1, %d1, %t1, %op1, %g1, %e1, %f1, %h1, %i1, "
      "%wp, %bp, %s2, %p2, %d2, %t2, %op2, %g2, %e2, %f2, %h2, %i2, %alpha";
  const std::string convs =
      "  %d = aten::_convolution(%x, %wd, %bd, %s1, %p1, %d1, %t1, %op1, %g1, %e1, %f1, %h1, %i1)\n"
      "  %c = aten::_convolution(%d, %wp, %bp, %s2, %p2, %d2, %t2, %op2, %g2, %e2, %f2, %h2, %i2)\n";
  const std::string op = blaze_block_op();
  // BlazeFace: the addition fused with its ReLU; FaceMesh: the addition, then a PReLU.
  const std::pair<std::string, std::string> rewrites[] = {
      {"graph(" + args + "):\n" + convs + "  %q = aten::_add_relu_(%c, %x, %alpha)\n  return (%q)\n",
       "graph(" + args + "):\n  %none : NoneType = prim::Constant()\n  %q = " + op +
           "(%x, %wd, %bd, %wp, %bp, %none)\n  return (%q)\n"},
      {"graph(" + args + ", %slope):\n" + convs +
           "  %r = aten::add_(%c, %x, %alpha)\n  %q = aten::prelu(%r, %slope)\n  return (%q)\n",
       "graph(" + args + ", %slope):\n  %q = " + op + "(%x, %wd, %bd, %wp, %bp, %slope)\n  return (%q)\n"},
  };
  // With the module at hand, only blocks whose weights the kernel takes: any other would run
  // as LibTorch's operators inside the op, no faster than before.
  auto takes = [module](const torch::jit::Match& match, const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    if (!is_blaze_block(match, vmap)) return false;
    if (module == nullptr) return true;
    const auto dw = module_weight(*module, match.values_map.at(vmap.at("wd")));
    const auto pw = module_weight(*module, match.values_map.at(vmap.at("wp")));
    if (!dw || !pw) return true;
    const at::Tensor probe = at::empty({1, dw->size(0), 1, 1});
    c10::optional<at::Tensor> slope;
    if (vmap.count("slope")) slope = module_weight(*module, match.values_map.at(vmap.at("slope")));
    return blaze_block_has_kernel(probe, *dw, *pw, slope);
  };
  const int before = count(graph, op.c_str());
  for (const auto& [pattern, replacement] : rewrites) {
    torch::jit::SubgraphRewriter rewriter;
    rewriter.RegisterRewritePattern(pattern, replacement);
    rewriter.runOnGraph(graph, takes);
  }
  return count(graph, op.c_str()) - before;
}

}  // namespace

int fuse_blaze_blocks(std::shared_ptr<torch::jit::Graph>& graph) { return fuse_blocks(graph, nullptr); }

int fuse_blaze_blocks(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  return fuse_blocks(graph, &module);
}

int chain_blaze_blocks(std::shared_ptr<torch::jit::Graph>& graph) {
  const std::string block = blaze_block_op();
  auto is_block = [&](const torch::jit::Node* n) { return n->kind().toQualString() == block; };
  auto is_none = [](const torch::jit::Value* v) { return v->type()->kind() == c10::TypeKind::NoneType; };
  // Runs in graph order: a block joins the run of the block that makes its input when that
  // output feeds nothing else and both are ReLU or both PReLU (the slope, input 5, None or not).
  std::vector<std::vector<torch::jit::Node*>> runs;
  std::unordered_map<const torch::jit::Node*, size_t> run_of;
  for (torch::jit::Node* n : graph->nodes()) {
    if (!is_block(n)) continue;
    const torch::jit::Node* p = n->input(0)->node();
    if (is_block(p) && p->output()->uses().size() == 1 && is_none(p->input(5)) == is_none(n->input(5)) &&
        p->owningBlock() == n->owningBlock()) {
      const size_t r = run_of.at(p);
      runs[r].push_back(n);
      run_of[n] = r;
    } else {
      run_of[n] = runs.size();
      runs.push_back({n});
    }
  }
  int made = 0;
  const c10::Symbol chain = c10::Symbol::fromQualString(blaze_blocks_op());
  for (const auto& run : runs) {
    if (run.size() < 2) continue;
    torch::jit::Node* last = run.back();
    torch::jit::WithInsertPoint guard(last);
    auto list = [&](int input, const c10::TypePtr& type) {
      std::vector<torch::jit::Value*> values;
      for (const torch::jit::Node* n : run) values.push_back(n->input(input));
      return graph->insertNode(graph->createList(type, values))->output();
    };
    const auto tensor = c10::TensorType::get();
    const auto optional = c10::OptionalType::create(c10::TensorType::get());
    torch::jit::Node* node = graph->create(chain, {run.front()->input(0), list(1, tensor), list(2, optional),
                                                   list(3, tensor), list(4, optional), list(5, optional)});
    graph->insertNode(node);
    node->output()->setType(last->output()->type());
    last->output()->replaceAllUsesWith(node->output());
    for (auto it = run.rbegin(); it != run.rend(); ++it) (*it)->destroy();
    ++made;
  }
  return made;
}

int chain_blaze_blocks(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  return chain_blaze_blocks(graph);
}

int fuse_whole_input_convolutions(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  const std::string op = whole_input_conv_op();
  const int before = count(graph, op.c_str());
  torch::jit::SubgraphRewriter rewriter;
  const std::string args = "%x, %w, %b, %s, %p, %d, %t, %op, %g, %b1, %b2, %b3, %b4";
  rewriter.RegisterRewritePattern("graph(" + args + "):\n  " + kConv + "\n  return (%c)\n",
                                  "graph(" + args + "):\n  %c = " + op + "(%x, %w, %b, %s)\n  return (%c)\n");
  rewriter.runOnGraph(graph, [&module](const torch::jit::Match& match,
                                       const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    if (!is_list(match, vmap, "p", {0, 0}) || !is_list(match, vmap, "d", {1, 1}) ||
        !is_false(constant(match, vmap, "t")) || !is_int(constant(match, vmap, "g"), 1))
      return false;
    // Kernels that tile their input (stride = kernel size), as heads over a last small map do;
    // any other convolution keeps LibTorch's operator.
    const auto w = module_weight(module, match.values_map.at(vmap.at("w")));
    return w && w->dim() == 4 && w->size(2) * w->size(3) > 1 && is_list(match, vmap, "s", {w->size(2), w->size(3)});
  });
  return count(graph, op.c_str()) - before;
}

int fuse_stride_two_blocks(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  const std::string op = blaze_block_s2_op();
  const int before = count(graph, op.c_str());
  const std::string args =
      "%x, %wd, %bd, %s1, %p1, %d1, %t1, %op1, %g1, %e1, %f1, %h1, %i1, "
      "%wp, %bp, %s2, %p2, %d2, %t2, %op2, %g2, %e2, %f2, %h2, %i2, %k, %ks, %mp, %md, %ceil, %alpha";
  const std::string head =
      "  %d = aten::_convolution(%x, %wd, %bd, %s1, %p1, %d1, %t1, %op1, %g1, %e1, %f1, %h1, %i1)\n"
      "  %c = aten::_convolution(%d, %wp, %bp, %s2, %p2, %d2, %t2, %op2, %g2, %e2, %f2, %h2, %i2)\n"
      "  %m = aten::max_pool2d(%x, %k, %ks, %mp, %md, %ceil)\n";
  // BlazeFace: the addition fused with its ReLU; FaceMesh: the addition, then a PReLU. Either
  // with the max-pool's channels padded or not.
  const std::string relu = "):\n  %none : NoneType = prim::Constant()\n  %q = " + op +
                           "(%x, %wd, %bd, %wp, %bp, %none)\n  return (%q)\n";
  const std::string prelu = ", %slope):\n  %q = " + op + "(%x, %wd, %bd, %wp, %bp, %slope)\n  return (%q)\n";
  const std::string pad = ", %pads, %mode, %value";
  const std::string padded = "  %mm = aten::pad(%m, %pads, %mode, %value)\n";
  const std::pair<std::string, std::string> rewrites[] = {
      {"graph(" + args + "):\n" + head + "  %q = aten::_add_relu_(%c, %m, %alpha)\n  return (%q)\n",
       "graph(" + args + relu},
      {"graph(" + args + pad + "):\n" + head + padded + "  %q = aten::_add_relu_(%c, %mm, %alpha)\n  return (%q)\n",
       "graph(" + args + pad + relu},
      {"graph(" + args + ", %slope):\n" + head +
           "  %r = aten::add_(%c, %m, %alpha)\n  %q = aten::prelu(%r, %slope)\n  return (%q)\n",
       "graph(" + args + prelu},
      {"graph(" + args + pad + ", %slope):\n" + head + padded +
           "  %r = aten::add_(%c, %mm, %alpha)\n  %q = aten::prelu(%r, %slope)\n  return (%q)\n",
       "graph(" + args + pad + prelu},
  };
  auto takes = [&module](const torch::jit::Match& match, const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    const auto g1 = constant(match, vmap, "g1");
    if (!is_list(match, vmap, "s1", {2, 2}) || !is_list(match, vmap, "p1", {1, 1}) || !is_list(match, vmap, "d1", {1, 1}) ||
        !is_false(constant(match, vmap, "t1")) || !g1 || !g1->isInt() || g1->toInt() <= 1 ||
        !is_list(match, vmap, "s2", {1, 1}) || !is_list(match, vmap, "p2", {0, 0}) || !is_list(match, vmap, "d2", {1, 1}) ||
        !is_false(constant(match, vmap, "t2")) || !is_int(constant(match, vmap, "g2"), 1) ||
        !is_list(match, vmap, "k", {2, 2}) || !is_list(match, vmap, "ks", {2, 2}) || !is_list(match, vmap, "mp", {0, 0}) ||
        !is_list(match, vmap, "md", {1, 1}) || !is_false(constant(match, vmap, "ceil")) || !alpha_is_one(match, vmap))
      return false;
    const auto dw = module_weight(module, match.values_map.at(vmap.at("wd")));
    const auto pw = module_weight(module, match.values_map.at(vmap.at("wp")));
    if (!dw || !pw || dw->dim() != 4 || pw->dim() != 4) return false;
    if (vmap.count("pads")) {  // zeros appended to the channels, up to the output's
      const auto mode = constant(match, vmap, "mode");
      const auto value = constant(match, vmap, "value");
      if (!is_list(match, vmap, "pads", {0, 0, 0, 0, 0, pw->size(0) - dw->size(0), 0, 0}) || !mode ||
          !mode->isString() || mode->toStringRef() != "constant" || !value ||
          !((value->isDouble() && value->toDouble() == 0.0) || (value->isInt() && value->toInt() == 0)))
        return false;
    } else if (pw->size(0) != dw->size(0)) {
      return false;
    }
    c10::optional<at::Tensor> slope;
    if (vmap.count("slope")) {
      slope = module_weight(module, match.values_map.at(vmap.at("slope")));
      if (!slope) return false;
    }
    return blaze_block_s2_has_kernel(at::empty({1, dw->size(0), 2, 2}), *dw, *pw, slope);
  };
  for (const auto& [pattern, replacement] : rewrites) {
    torch::jit::SubgraphRewriter rewriter;
    rewriter.RegisterRewritePattern(pattern, replacement);
    rewriter.runOnGraph(graph, takes);
  }
  return count(graph, op.c_str()) - before;
}

int fuse_input_convolutions(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  const std::string op = input_conv_relu_op();
  const int before = count(graph, op.c_str());
  torch::jit::SubgraphRewriter rewriter;
  const std::string args = "%img, %perm, %w, %b, %s, %p, %d, %t, %op, %g, %b1, %b2, %b3, %b4";
  rewriter.RegisterRewritePattern("graph(" + args + "):\n  %x = aten::permute(%img, %perm)\n  " + kConv +
                                      "\n  %q = aten::relu(%c)\n  return (%q)\n",
                                  "graph(" + args + "):\n  %q = " + op + "(%img, %w, %b, %s, %p)\n  return (%q)\n");
  rewriter.runOnGraph(graph, [&module](const torch::jit::Match& match,
                                       const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    if (!is_list(match, vmap, "perm", {0, 3, 1, 2}) || !is_list(match, vmap, "d", {1, 1}) ||
        !is_false(constant(match, vmap, "t")) || !is_int(constant(match, vmap, "g"), 1))
      return false;
    // Only where the kernel runs: the weight a module attribute of a shape it takes (the
    // input's shape is checked per call).
    const auto w = module_weight(module, match.values_map.at(vmap.at("w")));
    const auto s = int_list(match.values_map.at(vmap.at("s")));
    const auto p = int_list(match.values_map.at(vmap.at("p")));
    if (!w || !s || !p) return false;
    const at::Tensor probe = at::empty({1, 64, 64, w->dim() == 4 ? w->size(1) : 0});
    c10::optional<at::Tensor> bias;
    if (match.values_map.at(vmap.at("b"))->type()->kind() != c10::TypeKind::NoneType) {
      bias = module_weight(module, match.values_map.at(vmap.at("b")));
      if (!bias) return false;
    }
    return input_conv_has_kernel(probe, *w, bias, *s, *p);
  });
  // A convolution whose output only a chain of blocks reads joins the chain.
  const std::string chain = blaze_blocks_op();
  const c10::Symbol joined = c10::Symbol::fromQualString(blaze_blocks_after_input_conv_op());
  std::vector<torch::jit::Node*> chains;
  for (torch::jit::Node* n : graph->nodes())
    if (n->kind().toQualString() == chain) chains.push_back(n);
  for (torch::jit::Node* n : chains) {
    torch::jit::Node* conv = n->input(0)->node();
    if (conv->kind().toQualString() != op || conv->output()->uses().size() != 1 || conv->owningBlock() != n->owningBlock())
      continue;
    torch::jit::WithInsertPoint guard(n);
    std::vector<torch::jit::Value*> inputs(conv->inputs().begin(), conv->inputs().end());
    inputs.insert(inputs.end(), n->inputs().begin() + 1, n->inputs().end());
    torch::jit::Node* node = graph->insertNode(graph->create(joined, inputs));
    node->output()->setType(n->output()->type());
    n->output()->replaceAllUsesWith(node->output());
    n->destroy();
    conv->destroy();
  }
  return count(graph, op.c_str()) + count(graph, blaze_blocks_after_input_conv_op()) - before;
}

int fuse_separable_convolutions(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  const std::string pw = pointwise_conv_op(), dw = depthwise_conv_op();
  const int before = count(graph, pw.c_str()) + count(graph, dw.c_str());
  const std::string args = "%x, %w, %b, %s, %p, %d, %t, %op, %g, %b1, %b2, %b3, %b4";
  // 1x1, stride 1, no padding, one group, the weight a module attribute with output channels
  // the kernel takes.
  auto pointwise = [&module](const torch::jit::Match& match,
                             const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    if (!is_list(match, vmap, "s", {1, 1}) || !is_list(match, vmap, "p", {0, 0}) || !is_list(match, vmap, "d", {1, 1}) ||
        !is_false(constant(match, vmap, "t")) || !is_int(constant(match, vmap, "g"), 1))
      return false;
    if (vmap.count("alpha") && match.values_map.count(vmap.at("alpha")) && !alpha_is_one(match, vmap)) return false;
    const auto w = module_weight(module, match.values_map.at(vmap.at("w")));
    return w && w->dim() == 4 && w->size(2) == 1 && w->size(3) == 1 && pointwise_conv_takes(w->size(0)) &&
           w->scalar_type() == at::kFloat;
  };
  auto depthwise = [&module](const torch::jit::Match& match,
                             const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    const auto g = constant(match, vmap, "g");
    const auto s = int_list(match.values_map.at(vmap.at("s")));
    const auto p = int_list(match.values_map.at(vmap.at("p")));
    if (!g || !g->isInt() || !s || !p || !is_list(match, vmap, "d", {1, 1}) || !is_false(constant(match, vmap, "t")))
      return false;
    const auto w = module_weight(module, match.values_map.at(vmap.at("w")));
    return w && w->dim() == 4 && w->size(0) == g->toInt() && depthwise_conv_takes(*w, *s, *p);
  };
  // The PReLU and residual forms first, so that the plain 1x1 pattern leaves them whole.
  const std::string none = "  %none : NoneType = prim::Constant()\n";
  const std::vector<std::tuple<std::string, std::string, bool>> rewrites = {
      {"graph(" + args + ", %slope):\n  " + kConv + "\n  %q = aten::prelu(%c, %slope)\n  return (%q)\n",
       "graph(" + args + ", %slope):\n" + none + "  %q = " + pw + "(%x, %w, %b, %slope, %none)\n  return (%q)\n", true},
      {"graph(" + args + ", %y, %alpha):\n  " + kConv + "\n  %q = aten::add_(%c, %y, %alpha)\n  return (%q)\n",
       "graph(" + args + ", %y, %alpha):\n" + none + "  %q = " + pw + "(%x, %w, %b, %none, %y)\n  return (%q)\n", true},
      {"graph(" + args + "):\n  " + kConv + "\n  return (%c)\n",
       "graph(" + args + "):\n" + none + "  %c = " + pw + "(%x, %w, %b, %none, %none)\n  return (%c)\n", true},
      {"graph(" + args + ", %slope):\n  " + kConv + "\n  %q = aten::prelu(%c, %slope)\n  return (%q)\n",
       "graph(" + args + ", %slope):\n  %q = " + dw + "(%x, %w, %b, %slope, %s, %p)\n  return (%q)\n", false},
      {"graph(" + args + "):\n  " + kConv + "\n  return (%c)\n",
       "graph(" + args + "):\n" + none + "  %c = " + dw + "(%x, %w, %b, %none, %s, %p)\n  return (%c)\n", false},
  };
  for (const auto& [pattern, replacement, is_pointwise] : rewrites) {
    torch::jit::SubgraphRewriter rewriter;
    rewriter.RegisterRewritePattern(pattern, replacement);
    if (is_pointwise)
      rewriter.runOnGraph(graph, pointwise);
    else
      rewriter.runOnGraph(graph, depthwise);
  }
  // Each pointwise call reads its weight transposed, from an attribute made once here.
  std::vector<torch::jit::Node*> calls;
  for (torch::jit::Node* node : graph->nodes())
    if (node->kind().toQualString() == pw) calls.push_back(node);
  torch::jit::Value* self = graph->inputs()[0];
  for (torch::jit::Node* node : calls) {
    torch::jit::Value* wv = node->input(1);
    const auto w = module_weight(module, wv);
    TORCH_CHECK(w, "fuse_separable_convolutions: a pointwise weight that is not a module attribute");
    const std::string name = wv->node()->s(c10::attr::name) + "_in_out";
    if (!module.hasattr(name))
      module.register_attribute(name, c10::TensorType::get(), w->reshape({w->size(0), w->size(1)}).t().contiguous());
    torch::jit::WithInsertPoint guard(node);
    node->replaceInput(1, graph->insertGetAttr(self, name));
  }
  torch::jit::EliminateDeadCode(graph);
  return count(graph, pw.c_str()) + count(graph, dw.c_str()) - before;
}

int vectorise_quantize(torch::jit::Module& module) {
  auto graph = module.get_method("forward").graph();
  const std::string op = quantize_per_tensor_op();
  const int before = count(graph, op.c_str());
  torch::jit::SubgraphRewriter rewriter;
  rewriter.RegisterRewritePattern(
      "graph(%x, %scale, %zero_point, %dtype):\n"
      "  %q = aten::quantize_per_tensor(%x, %scale, %zero_point, %dtype)\n  return (%q)\n",
      "graph(%x, %scale, %zero_point, %dtype):\n"
      "  %q = " + op + "(%x, %scale, %zero_point, %dtype)\n  return (%q)\n");
  // Only the overload with tensor qparams (the one the operator implements).
  rewriter.runOnGraph(graph, [](const torch::jit::Match& match, const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    const auto is_tensor = [&](const char* name) {
      return match.values_map.at(vmap.at(name))->type()->kind() == c10::TypeKind::TensorType;
    };
    return is_tensor("x") && is_tensor("scale") && is_tensor("zero_point");
  });
  const std::string de = dequantize_op();
  const int dequantized = count(graph, de.c_str());
  torch::jit::SubgraphRewriter dequantize;
  dequantize.RegisterRewritePattern("graph(%x):\n  %y = aten::dequantize(%x)\n  return (%y)\n",
                                    "graph(%x):\n  %y = " + de + "(%x)\n  return (%y)\n");
  dequantize.runOnGraph(graph, [](const torch::jit::Match& match,
                                  const std::unordered_map<std::string, torch::jit::Value*>& vmap) {
    return match.values_map.at(vmap.at("x"))->type()->kind() == c10::TypeKind::TensorType;
  });
  return count(graph, op.c_str()) - before + count(graph, de.c_str()) - dequantized;
}

}  // namespace facekit::models
