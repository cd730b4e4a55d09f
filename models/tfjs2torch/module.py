"""Execute a parsed TF.js graph as a torch.nn.Module, ready for torch.jit.trace."""
import numpy as np
import torch

from .ops import OPS, Context, V, tf_view

_CONST_OPS = {"Const"}


class GraphModule(torch.nn.Module):
    """Runs `graph` op by op. Nodes that depend only on constants are evaluated once here."""

    def __init__(self, graph, input_name, output_names):
        super().__init__()
        self.graph = graph
        self.input_name = input_name
        self.output_refs = [self._ref(n) for n in output_names]
        self._ctx = Context(self)
        self._cache_names = {}
        self._static = {}  # node name -> list of V (folded constants)
        self._dynamic = []
        needed = self._needed_nodes()
        with torch.no_grad():
            for node in graph.nodes:
                if node.name not in needed:
                    continue
                if node.op == "Const":
                    self._static[node.name] = [self._constant(node.name, graph.weights[node.name])]
                elif node.op == "Placeholder":
                    self._dynamic.append(node)
                elif all(dep in self._static for dep, _ in node.inputs):
                    outs = self._run(node, [self._static[d][i] for d, i in node.inputs])
                    self._static[node.name] = [self._constant(f"{node.name}:{k}", o.t, o.nchw)
                                               for k, o in enumerate(outs)]
                else:
                    self._dynamic.append(node)

    @staticmethod
    def _ref(name):
        base, _, idx = name.partition(":")
        return base, int(idx) if idx else 0

    def _needed_nodes(self):
        by_name = {n.name: n for n in self.graph.nodes}
        needed, stack = set(), [r[0] for r in self.output_refs]
        while stack:
            name = stack.pop()
            if name in needed:
                continue
            if name not in by_name:
                raise KeyError(f"output or input node {name!r} not in graph")
            needed.add(name)
            stack.extend(d for d, _ in by_name[name].inputs)
        return needed

    def _constant(self, key, value, nchw=False):
        # Raw constants become trace constants: only those the traced graph uses are saved.
        t = torch.from_numpy(np.ascontiguousarray(value)) if isinstance(value, np.ndarray) else value
        return V(t, nchw, key)

    def _buffer(self, key, tensor):
        name = self._cache_names.get(key)
        if name is None:
            name = f"w{len(self._cache_names)}"
            self._cache_names[key] = name
            self.register_buffer(name, tensor.detach().clone().contiguous())
        return getattr(self, name)

    def cached_constant(self, key, compute):
        """A transformed constant (e.g. a filter in OIHW), registered once as a buffer."""
        name = self._cache_names.get(key)
        if name is not None:
            return getattr(self, name)
        with torch.no_grad():
            return self._buffer(key, compute())

    def _run(self, node, args):
        fn = OPS.get(node.op)
        if fn is None:
            raise NotImplementedError(f"TF op {node.op} (node {node.name}) is not supported")
        out = fn(self._ctx, node, args)
        return out if isinstance(out, list) else [out]

    def forward(self, x):
        values = {self.input_name: [V(x)]}
        for node in self._dynamic:
            if node.op == "Placeholder":
                continue
            args = []
            for dep, idx in node.inputs:
                src = self._static.get(dep) or values[dep]
                args.append(src[idx])
            values[node.name] = self._run(node, args)
        outs = []
        for name, idx in self.output_refs:
            src = values.get(name) or self._static[name]
            outs.append(tf_view(src[idx]).contiguous())
        return tuple(outs)
