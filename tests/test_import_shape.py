"""The package's import shape: no cycles, no private names across modules, dependencies pointing down the layers.

Reads every module's imports (module level and inside functions, since a lazy import is still a dependency) with
`ast`, so it needs nothing installed and fails with the offending import's file and line."""
import ast, pathlib, sys, pytest

PKG = pathlib.Path(__file__).resolve().parent.parent/'llmforge'

# Lower layers first; a module may import from its own layer or any layer above it in this list, never below.
# Token counting needs the model's tokenizer, so the checks that count tokens (validators) sit below `models`,
# while the leaf checks (templates, codes, phi, ...) sit above it: models renders chat templates.
LAYERS = [
    ('core', ['core', 'store', 'project', 'examples', 'fingerprints', 'phi', 'metrics', 'sandbox']),
    ('leaf checks', ['codes', 'templates', 'configs', 'llamacpp']),
    ('models', ['models']),
    ('checks', ['validators', 'preprocess', 'doctor']),
    ('train, generate, evaluate', ['train', 'generate', 'evaluation', 'code_tasks']),
    ('quantize', ['quantizers']),
    ('recipes', ['agents', 'compress']),
    ('faces', ['cli', 'widgets', 'serve', 'quickstart', '__main__']),
]
RANK = {m: i for i,(_,ms) in enumerate(LAYERS) for m in ms}

def modules()->dict:
    "Dotted module name -> path, for every module of the package (generated and example files left out)"
    out = {}
    for p in PKG.rglob('*.py'):
        rel = p.relative_to(PKG.parent).with_suffix('')
        if p.name == '_modidx.py' or 'example_projects' in rel.parts: continue
        name = '.'.join(rel.parts)
        out[name[:-len('.__init__')] if name.endswith('.__init__') else name] = p
    return out

MODS = modules()

def imports(name:str, path:pathlib.Path)->list:
    "(line, imported module, imported name or None) for every llmforge import in a module"
    pkg = name if path.name == '__init__.py' else name.rpartition('.')[0]
    out = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg.split('.')[:len(pkg.split('.')) - node.level + 1]
                target = '.'.join(base + ([node.module] if node.module else []))
            else: target = node.module or ''
            if target.split('.')[0] != 'llmforge': continue
            for a in node.names:
                sub = f'{target}.{a.name}'
                out.append((node.lineno, sub, None) if sub in MODS else (node.lineno, target, a.name))
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names if a.name.split('.')[0] == 'llmforge']
    return out

def edges()->dict:
    "module -> {imported module: first line}, between distinct modules of the package"
    g = {}
    for name,path in MODS.items():
        for line,target,_ in imports(name, path):
            if target != name and target in MODS: g.setdefault(name, {}).setdefault(target, line)
    return g

def cycles(g:dict)->list:
    "The strongly connected components of more than one module (Tarjan)"
    index,low,stack,on,out,n = {},{},[],set(),[],[0]
    def visit(v):
        index[v] = low[v] = n[0]; n[0] += 1; stack.append(v); on.add(v)
        for w in g.get(v, {}):
            if w not in index: visit(w); low[v] = min(low[v], low[w])
            elif w in on: low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in MODS:
        if v not in index: visit(v)
    return out

def layer(name:str)->int|None:
    "The layer of a module: its first name below `llmforge` (a package counts as one)"
    parts = name.split('.')
    return RANK.get(parts[1]) if len(parts) > 1 else -1

def test_modules_found():
    assert {'llmforge.core', 'llmforge.train', 'llmforge.models'} <= set(MODS), sorted(MODS)

def test_no_import_cycles():
    assert cycles(edges()) == []

def test_no_private_names_across_modules():
    bad = [f'{MODS[n].relative_to(PKG.parent)}:{line}: imports {what} from {target}'
           for n,p in MODS.items() for line,target,what in imports(n, p)
           if what and what.startswith('_') and not what.startswith('__') and target != n]
    assert bad == []

def test_every_module_has_a_layer():
    assert [n for n in MODS if layer(n) is None] == []

def test_dependencies_point_down_the_layers():
    bad = [f'{MODS[a].relative_to(PKG.parent)}:{line}: {a} ({LAYERS[layer(a)][0]}) imports {b} ({LAYERS[layer(b)][0]})'
           for a,targets in edges().items() for b,line in targets.items()
           if layer(a) is not None and layer(b) is not None and layer(b) > layer(a)]
    assert bad == []

def test_commands_are_listed_not_discovered():
    "The CLI names its command modules; nothing is found by scanning for module names"
    for n,p in MODS.items():
        if n.split('.')[1:2] != ['cli']: continue
        src = p.read_text()
        assert 'pkgutil' not in src and 'import_module(' not in src, f'{p}: finds commands by name'

@pytest.mark.parametrize('src,expect', [
    ({'a': {'b': 1}, 'b': {'a': 2}}, [['a', 'b']]),
    ({'a': {'b': 1}, 'b': {'c': 1}}, []),
])
def test_cycle_finder_can_fail(src, expect, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], 'MODS', {'a': 0, 'b': 0, 'c': 0})
    assert cycles(src) == expect
