"""A local server that speaks the part of Thinking Machines' Tinker API the official `tinker` SDK calls for LoRA
training, and really trains: each training run is a torch model from a local folder with a peft LoRA on it, so losses
fall and the exported adapter works. For tests (hatchery-core, a real Tinker-compatible server, needs Python >= 3.12).

What the SDK sends (traced from tinker 0.38.0 against this server, `FakeTinker.requests`): JSON POSTs under /api/v1
(client/config, create_session, session_heartbeat, create_model, get_info, optim_step, save_weights, load_weights,
save_weights_external, retrieve_future, telemetry, sessions/{id}/finish), except forward_backward, whose body is a
protobuf `ForwardBackwardRequest` (`tinker.proto.tinker_public_pb2`), answered, through retrieve_future, by a protobuf
`ForwardBackwardOutput`. Work requests answer a future id at once; the SDK polls retrieve_future for the result.

Faults: `faults` holds (path regex, status) pairs, each answered once to the next matching request; `hang` names
request kinds ('forward_backward', 'optim_step', ...) whose futures never finish; `expire()` ends every session, as
Tinker does when heartbeats stop: later requests of its training runs get 410.
"""
import datetime, io, json, re, threading, uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TINKER_TARGETS = {'attn': ['q_proj', 'k_proj', 'v_proj', 'o_proj'], 'mlp': ['gate_proj', 'up_proj', 'down_proj'],
                  'unembed': ['lm_head']}

class FakeTinker:
    "A Tinker-compatible server at `url`; `models` maps the base-model names it serves to local HF folders"
    def __init__(self, key:str, models:dict, lora_alpha:int=32):
        self.key,self.models,self.lora_alpha = key,{k: str(v) for k,v in models.items()},lora_alpha
        self.requests,self.faults,self.hang = [],[],set()
        self.sessions,self.runs,self.checkpoints,self.futures,self.files = {},{},{},{},{}
        self.lock = threading.RLock()
        api = self
        class Handler(BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'
            def log_message(self, *a): pass
            def do_GET(self): api._handle(self, 'GET')
            def do_POST(self): api._handle(self, 'POST')
            def do_DELETE(self): api._handle(self, 'DELETE')
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.server.daemon_threads = True
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self): self.server.shutdown(); self.server.server_close()
    def __enter__(self): return self
    def __exit__(self, *a): self.close()

    def expire(self):
        "End every session now, as Tinker does when a client stops sending heartbeats"
        with self.lock:
            for s in self.sessions.values(): s['expired'] = True

    def kinds(self)->list:
        "The request kinds received, in order (the last part of each path), e.g. ['create_session', 'create_model', ...]"
        return [p.rsplit('/', 1)[-1] for _,p,_ in self.requests]

    # --- HTTP plumbing
    def _send(self, h, status:int, body, ctype:str='application/json', headers=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h.send_response(status)
        for k,v in {'Content-Type': ctype, 'Content-Length': str(len(data)), **(headers or {})}.items(): h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _err(self, h, status:int, msg:str): self._send(h, status, {'detail': msg}, headers={'retry-after-ms': '10'})

    def _handle(self, h, method:str):
        raw = h.rfile.read(int(h.headers.get('Content-Length') or 0))
        path = h.path.split('?')[0]
        with self.lock:
            self.requests.append((method, path, h.headers.get('Content-Type', '')))
            fault = next((f for f in self.faults if re.search(f[0], path)), None)
            if fault: self.faults.remove(fault)
        if fault: return self._err(h, fault[1], f'injected fault {fault[1]}')
        if path.startswith('/files/'):
            if path not in self.files: return self._err(h, 404, 'no such file')
            return self._send(h, 200, self.files[path], 'application/octet-stream')
        if path == '/api/v1/client/config': return self._send(h, 200, {'pjwt_auth_enabled': False})
        if h.headers.get('X-API-Key') != self.key: return self._err(h, 401, 'Invalid API key')
        try: body = json.loads(raw) if raw and 'json' in h.headers.get('Content-Type', '') else raw
        except ValueError: return self._err(h, 400, 'body is not JSON')
        try: return self._route(h, method, path, body)
        except Gone as e: return self._err(h, 410, str(e))
        except NotFound as e: return self._err(h, 404, str(e))

    def _route(self, h, method:str, path:str, body):
        ok = lambda d: self._send(h, 200, d)
        name = path.removeprefix('/api/v1/')
        if name == 'client/dynamic_config': return ok({})
        if name == 'telemetry': return ok({'status': 'accepted'})
        if name == 'healthz': return ok({'status': 'ok'})
        if name == 'create_session':
            sid = 'sess-' + uuid.uuid4().hex[:8]
            with self.lock: self.sessions[sid] = {'expired': False}
            return ok({'type': 'create_session', 'session_id': sid})
        if name == 'session_heartbeat':
            self._session(body['session_id'])
            return ok({'type': 'session_heartbeat'})
        if m := re.fullmatch(r'sessions/([^/]+)/finish', name):
            with self.lock: self.sessions.get(m[1], {})['finished'] = True
            return ok(None)
        if name == 'retrieve_future': return self._retrieve(h, body['request_id'])
        if name == 'get_info':
            r = self._run(body['model_id'])
            return ok({'type': 'get_info', 'model_id': body['model_id'], 'is_lora': True, 'lora_rank': r['rank'],
                       'model_name': r['base'], 'model_data': {'arch': 'llama', 'model_name': r['base']}})
        if m := re.fullmatch(r'training_runs/(.+?)/checkpoints/(external_weights/[^/]+)/external_weights_urls', name):
            ck = self.checkpoints.get(f'tinker://{m[1]}/{m[2]}')
            if ck is None: raise NotFound(f'no checkpoint tinker://{m[1]}/{m[2]}')
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            return ok({'urls': {f: self.url + p for f,p in ck['files'].items()}, 'expires': exp.isoformat()})
        work = {'create_model': self._create_model, 'forward_backward': self._forward_backward,
                'optim_step': self._optim_step, 'save_weights': self._save_state, 'load_weights': self._load_state,
                'save_weights_external': self._save_external}
        if method == 'POST' and name in work:
            rid = 'req-' + uuid.uuid4().hex[:12]
            result = work[name](body)   # done at once; the SDK sends requests of one run in order
            with self.lock: self.futures[rid] = None if name in self.hang else result
            return ok({'request_id': rid, 'model_id': body.get('model_id') if isinstance(body, dict) else None})
        raise NotFound(f'no route {method} {path}')

    def _retrieve(self, h, rid:str):
        with self.lock:
            if rid not in self.futures: raise NotFound(f'no future {rid}')
            res = self.futures[rid]
        if res is None: return self._send(h, 200, {'type': 'try_again', 'request_id': rid, 'queue_state': 'active'})
        kind,payload = res
        if kind == 'proto': return self._send(h, 200, payload, 'application/x-protobuf')
        return self._send(h, 200, payload)

    def _session(self, sid:str)->dict:
        s = self.sessions.get(sid)
        if s is None: raise NotFound(f'no session {sid}')
        if s['expired']: raise Gone(f'session {sid} expired: no heartbeat received')
        return s

    def _run(self, model_id:str)->dict:
        r = self.runs.get(model_id)
        if r is None: raise NotFound(f'no training run {model_id}')
        self._session(r['session'])
        return r

    # --- training runs: a base model with a peft LoRA and an AdamW
    def _new_run(self, session:str, seq:int, base:str, rank:int, seed, attn=True, mlp=True, unembed=True)->str:
        import torch
        from peft import LoraConfig, get_peft_model
        from transformers import AutoModelForCausalLM
        if base not in self.models: raise NotFound(f'base model {base!r} is not served here')
        self._session(session)
        model = AutoModelForCausalLM.from_pretrained(self.models[base], dtype=torch.float32)
        mods = sum((TINKER_TARGETS[k] for k,on in (('attn', attn), ('mlp', mlp), ('unembed', unembed)) if on), [])
        if seed is not None: torch.manual_seed(seed)
        model = get_peft_model(model, LoraConfig(r=rank, lora_alpha=self.lora_alpha, lora_dropout=0.0,
                                                 target_modules=mods))
        model.train()
        mid = f'{session}:train:{seq}'
        params = [p for p in model.parameters() if p.requires_grad]
        self.runs[mid] = {'session': session, 'base': base, 'rank': rank, 'model': model, 'params': params,
                          'opt': torch.optim.AdamW(params), 'targets': mods, 'steps': 0}
        return mid

    def _create_model(self, b:dict):
        lc = b.get('lora_config') or {}
        mid = self._new_run(b['session_id'], b['model_seq_id'], b['base_model'], lc.get('rank', 32), lc.get('seed'),
                            lc.get('train_attn', True), lc.get('train_mlp', True), lc.get('train_unembed', True))
        return 'json', {'type': 'create_model', 'model_id': mid}

    def _forward_backward(self, raw:bytes):
        import numpy as np, torch
        from tinker.proto import tinker_public_pb2 as pb
        req = pb.ForwardBackwardRequest()
        req.ParseFromString(raw)
        r = self._run(req.model_id)
        if req.loss_fn != 'cross_entropy': return 'json', {'error': f'loss {req.loss_fn} not served', 'category': 'user'}
        lps,total = [],0.0
        with self.lock, torch.set_grad_enabled(not req.forward_only):
            for d in req.data:
                ids = np.concatenate([np.frombuffer(c.encoded_text.tokens, dtype=np.int32) for c in d.model_input])
                tgt = _dense(d.loss_fn_inputs['target_tokens'])
                w = _dense(d.loss_fn_inputs['weights']) if 'weights' in d.loss_fn_inputs else np.ones(len(tgt), 'f4')
                logits = r['model'](input_ids=torch.tensor(ids[None], dtype=torch.long)).logits[0].float()
                lp = torch.log_softmax(logits, -1).gather(-1, torch.tensor(tgt, dtype=torch.long)[:, None])[:, 0]
                loss = -(torch.tensor(w) * lp).sum()
                if not req.forward_only: loss.backward()
                total += loss.item()
                lps.append(lp.detach().numpy().astype('f4'))
        return 'proto', _fwdbwd_output(lps, total)

    def _optim_step(self, b:dict):
        import torch
        r = self._run(b['model_id'])
        a = b.get('adam_params') or {}
        with self.lock:
            for g in r['opt'].param_groups:
                g.update(lr=a.get('learning_rate', 1e-4), betas=(a.get('beta1', 0.9), a.get('beta2', 0.95)),
                         eps=a.get('eps', 1e-12), weight_decay=a.get('weight_decay', 0.0))
            norm = torch.nn.utils.clip_grad_norm_(r['params'], a['grad_clip_norm']) if a.get('grad_clip_norm') else None
            r['opt'].step()
            r['opt'].zero_grad(set_to_none=True)
            r['steps'] += 1
        return 'json', {'metrics': {'grad_norm:mean': float(norm)} if norm is not None else {}}

    # --- checkpoints: training state (weights and optimizer), and the adapter in Tinker's export layout
    def _save_state(self, b:dict):
        import copy
        r = self._run(b['model_id'])
        path = f"tinker://{b['model_id']}/weights/{b.get('path') or uuid.uuid4().hex[:8]}"
        with self.lock:
            self.checkpoints[path] = {'base': r['base'], 'rank': r['rank'], 'targets': r['targets'],
                                      'weights': {n: p.detach().clone() for n,p in r['model'].named_parameters()
                                                  if p.requires_grad},
                                      'opt': copy.deepcopy(r['opt'].state_dict())}
        return 'json', {'type': 'save_weights', 'path': path}

    def _load_state(self, b:dict):
        ck = self.checkpoints.get(b['path'])
        if ck is None: return 'json', {'error': f"no checkpoint {b['path']}", 'category': 'user'}
        on = {k: any(t in ck['targets'] for t in v) for k,v in TINKER_TARGETS.items()}
        mid = self._new_run(b['session_id'], b['model_seq_id'], ck['base'], ck['rank'], None, **on)
        r = self.runs[mid]
        with self.lock:
            named = dict(r['model'].named_parameters())
            for n,v in ck['weights'].items(): named[n].data.copy_(v)
            if b.get('optimizer'): r['opt'].load_state_dict(ck['opt'])
        return 'json', {'type': 'load_weights', 'path': b['path'], 'model_id': mid}

    def _save_external(self, b:dict):
        "The adapter as Tinker exports it: PEFT-like names, the unembedding as `model.unembed_tokens`, r and alpha"
        from safetensors.torch import save
        r = self._run(b['model_id'])
        path = f"tinker://{b['model_id']}/external_weights/{b['path']}"
        tensors = {}
        for n,p in r['model'].named_parameters():
            if not p.requires_grad: continue
            n = n.replace('.default.', '.').replace('base_model.model.lm_head.', 'base_model.model.model.unembed_tokens.')
            tensors[n] = p.detach().clone().contiguous()
        cfg = {'r': r['rank'], 'lora_alpha': self.lora_alpha, 'base_model': r['base']}
        token = uuid.uuid4().hex
        files = {'adapter_model.safetensors': save(tensors), 'adapter_config.json': json.dumps(cfg).encode()}
        with self.lock:
            for f,data in files.items(): self.files[f'/files/{token}/{f}'] = data
            self.checkpoints[path] = {'files': {f: f'/files/{token}/{f}' for f in files}}
        return 'json', {'type': 'save_weights_external', 'path': path, 'size_bytes': sum(map(len, files.values()))}

class Gone(Exception): pass
class NotFound(Exception): pass

def _dense(t):
    "A protobuf `Tensor` (dense, or sparse CSR of one row) as a flat numpy array"
    import numpy as np
    from tinker.proto import tinker_public_pb2 as pb
    dt = {pb.DTYPE_FLOAT32: np.float32, pb.DTYPE_INT64: np.int64}[t.dtype]
    if t.HasField('sparse_csr'):
        out = np.zeros(int(np.prod(t.shape)), dt)
        out[np.frombuffer(t.sparse_csr.col_indices, np.int64)] = np.frombuffer(t.sparse_csr.values, dt)
        return out
    return np.frombuffer(t.dense, dt)

def _fwdbwd_output(logprobs:list, loss_sum:float)->bytes:
    "A protobuf `ForwardBackwardOutput`: per-datum target logprobs and losses in one `ArrayRecord`, and the loss sum"
    import numpy as np
    from tinker.proto import tinker_public_pb2 as pb
    def batched(arrays):
        offsets = np.cumsum([0] + [a.nbytes for a in arrays]).astype(np.int64)
        return pb.BatchedTensor(data=b''.join(a.tobytes() for a in arrays), offsets=offsets.tobytes(),
                                dtype=pb.DTYPE_FLOAT32)
    rec = pb.ArrayRecord(type_tag='ArrayRecord', num_datums=len(logprobs),
                         fields={'logprobs': batched(logprobs), 'elementwise_loss': batched([-a for a in logprobs])})
    return pb.ForwardBackwardOutput(loss_fn_output_type='ArrayRecord', loss_fn_outputs=[rec],
                                    metrics={'loss:sum': loss_sum}).SerializeToString()
