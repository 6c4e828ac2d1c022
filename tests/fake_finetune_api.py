"A local HTTP server that behaves like Together's and OpenAI's fine-tuning APIs (files, jobs, errors), for tests"
import email.parser, email.policy, json, re, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class FakeFineTuneAPI:
    """Both APIs under one address (`url` + '/v1'). Jobs advance one state per status poll; a base model whose name
    contains 'fail' ends in failure. `faults` is a list of (status, headers, body) answered before any real handling."""
    def __init__(self, key:str, polls_to_finish:int=2):
        self.key,self.polls_to_finish = key,polls_to_finish
        self.files,self.jobs,self.requests,self.faults = {},{},[],[]
        self.lock = threading.Lock()
        api = self
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a): pass
            def do_GET(self): api._handle(self, 'GET')
            def do_POST(self): api._handle(self, 'POST')
        self.server = ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        self.url = f'http://127.0.0.1:{self.server.server_address[1]}/v1'
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self): self.server.shutdown(); self.server.server_close()
    def __enter__(self): return self
    def __exit__(self, *a): self.close()

    def _send(self, h, status:int, body, headers=None):
        data = json.dumps(body).encode()
        h.send_response(status)
        for k,v in {'Content-Type': 'application/json', **(headers or {})}.items(): h.send_header(k, v)
        h.send_header('Content-Length', str(len(data))); h.end_headers(); h.wfile.write(data)

    def _err(self, h, status, msg, headers=None): self._send(h, status, {'error': {'message': msg, 'type': 'invalid_request_error'}}, headers)

    def _form(self, h, raw:bytes)->dict:
        msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(b'Content-Type: ' + h.headers['Content-Type'].encode() + b'\r\n\r\n' + raw)
        return {p.get_param('name', header='content-disposition'): p.get_payload(decode=True) for p in msg.iter_parts()}

    def _handle(self, h, method:str):
        raw = h.rfile.read(int(h.headers.get('Content-Length') or 0))
        path = h.path.split('?')[0]
        with self.lock:
            self.requests.append((method, path))
            if self.faults:
                status,headers,body = self.faults.pop(0)
                return self._send(h, status, body, headers)
        if h.headers.get('Authorization') != f'Bearer {self.key}': return self._err(h, 401, 'Incorrect API key provided')
        if method == 'POST' and path in ('/v1/files', '/v1/files/upload'):
            form = self._form(h, raw)
            if form.get('purpose') != b'fine-tune': return self._err(h, 400, "purpose must be 'fine-tune'")
            lines = form['file'].decode().splitlines()
            for i,l in enumerate(lines):
                d = json.loads(l)
                if set(d) != {'messages'}: return self._err(h, 400, f'Invalid file format: line {i+1} has keys {sorted(d)}')
            fid = f'file-{len(self.files)+1}'
            self.files[fid] = lines
            return self._send(h, 200, {'id': fid, 'object': 'file', 'bytes': len(form['file']), 'purpose': 'fine-tune'})
        if method == 'POST' and path in ('/v1/fine_tuning/jobs', '/v1/fine-tunes'):
            body = json.loads(raw)
            for k in ('training_file', 'validation_file'):
                if body.get(k) is not None and body[k] not in self.files: return self._err(h, 400, f'invalid {k}: {body[k]} does not exist')
            if body.get('model') == 'no-such-model': return self._err(h, 404, f"The model '{body['model']}' does not exist")
            together = path == '/v1/fine-tunes'
            jid = f'{"ft-" if together else "ftjob-"}{len(self.jobs)+1}'
            self.jobs[jid] = {'id': jid, 'body': body, 'polls': 0, 'together': together}
            return self._send(h, 200, self._view(jid))
        m = re.fullmatch(r'/v1/(?:fine_tuning/jobs|fine-tunes)/([^/]+)(/cancel)?', path)
        if m and m[1] in self.jobs:
            j = self.jobs[m[1]]
            if m[2]: j['cancelled'] = True
            elif method == 'GET': j['polls'] += 1
            return self._send(h, 200, self._view(m[1]))
        if method == 'GET' and path in ('/v1/fine_tuning/jobs', '/v1/fine-tunes'):
            return self._send(h, 200, {'object': 'list', 'data': [self._view(k) for k in self.jobs]})
        return self._err(h, 404, f'no route {method} {path}' if not m else f'no fine-tuning job {m[1]}')

    def _view(self, jid:str)->dict:
        "A job as the provider shows it: status, and the model once done"
        j = self.jobs[jid]
        done,fail = j['polls'] >= self.polls_to_finish,'fail' in j['body']['model']
        if j['together']:
            st = 'cancelled' if j.get('cancelled') else ('error' if fail else 'completed') if done else 'running' if j['polls'] else 'pending'
            return {'id': jid, 'status': st, 'model': j['body']['model'], 'output_name': f"me/{j['body']['model'].split('/')[-1]}-{j['body'].get('suffix') or 'ft'}-{jid}" if st == 'completed' else None}
        st = 'cancelled' if j.get('cancelled') else ('failed' if fail else 'succeeded') if done else 'running' if j['polls'] else 'validating_files'
        return {'id': jid, 'object': 'fine_tuning.job', 'status': st, 'model': j['body']['model'],
                'fine_tuned_model': f"ft:{j['body']['model']}:me:{j['body'].get('suffix') or 'x'}:{jid}" if st == 'succeeded' else None,
                'error': {'code': 'invalid_training_file', 'message': 'Training file has too few examples', 'param': 'training_file'} if st == 'failed' else None}
