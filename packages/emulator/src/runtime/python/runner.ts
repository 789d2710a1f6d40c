/**
 * The Python runner: one warm interpreter per handler (and memory cap and environment) that serves many
 * calls. It reads one call per line on fd 4 (`{dir, entry, data, secrets, callInfo, limit, memoryMb,
 * marker}`; stdin is empty, so a handler that reads it cannot eat the next call); on its first call it applies the memory cap, enters the code directory and imports the
 * handler module, once. Each call gets its own freshly decoded `data` and `secrets`, and `handle` is
 * called with the arguments it names. After each call the runner flushes stdout and stderr, writes the
 * call's `marker` on both (so the parent knows every printed line of the call has arrived), then writes
 * one JSON reply line to fd 3, where nothing the handler prints can reach it. A failed import or a
 * `MemoryError` ends the runner after its reply, so the next call starts a fresh interpreter.
 *
 * @since 0.1.0
 */

/** The runner's source. */
export const runnerScript = String.raw`
import asyncio, importlib, importlib.util, inspect, json, os, sys, traceback

def _setup(config):
    code_dir, entry, memory_mb = config["dir"], config["entry"], config["memoryMb"]
    if memory_mb:
        try:
            import resource
            cap = int(memory_mb) * 1024 * 1024
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        except (ImportError, ValueError, OSError):
            pass
    os.chdir(code_dir)
    handler_dir = os.path.dirname(os.path.join(code_dir, entry))
    del sys.path[0]
    sys.path[0:0] = [code_dir] + ([handler_dir] if handler_dir != code_dir else [])
    sys.argv = [os.path.join(code_dir, entry)]
    stem = entry[:-3] if entry.endswith(".py") else entry
    parts = stem.split("/")
    if all(part.isidentifier() for part in parts):
        return importlib.import_module(".".join(parts))
    spec = importlib.util.spec_from_file_location("handler", os.path.join(code_dir, entry))
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
    return module

def _exception(e, fatal):
    tb = e.__traceback__.tb_next if e.__traceback__ is not None else None
    return {"kind": "exception", "message": f"{type(e).__name__}: {e}", "trace": "".join(traceback.format_exception(type(e), e, tb)), "fatal": fatal}

def _call(state, config):
    if "module" not in state:
        try:
            state["module"] = _setup(config)
        except MemoryError:
            return {"kind": "memory", "trace": traceback.format_exc(), "fatal": True}
        except BaseException as e:
            return _exception(e, True)
    handle = getattr(state["module"], "handle", None)
    if not callable(handle):
        return {"kind": "exception", "message": f"AttributeError: {config['entry']} has no callable 'handle'", "trace": None, "fatal": True}
    available = {"data": config["data"], "client": None, "secrets": config["secrets"], "function_call_info": config["callInfo"]}
    try:
        params = inspect.signature(handle).parameters
    except (TypeError, ValueError):
        params = None
    if params is None or any(p.kind == p.VAR_KEYWORD for p in params.values()):
        kwargs = available
    else:
        kwargs = {k: v for k, v in available.items() if k in params}
    try:
        value = handle(**kwargs)
        if inspect.isawaitable(value):
            async def wait(awaitable):
                return await awaitable
            value = asyncio.run(wait(value))
    except MemoryError:
        return {"kind": "memory", "trace": traceback.format_exc(), "fatal": True}
    except BaseException as e:
        return _exception(e, False)
    try:
        payload = json.dumps(value, allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError, UnicodeEncodeError) as e:
        return {"kind": "notJson", "reason": f"{type(e).__name__}: {e}"}
    size = len(payload.encode("utf-8"))
    if size > config["limit"]:
        return {"kind": "tooLarge", "bytes": size}
    return {"kind": "ok", "json": payload}

def _main():
    os.set_inheritable(3, False)
    os.set_inheritable(4, False)
    result = os.fdopen(3, "wb")
    stdin = os.fdopen(4, "rb")
    state = {}
    while True:
        line = stdin.readline()
        if not line:
            return
        config = json.loads(line.decode("utf-8"))
        reply = _call(state, config)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
        marker = config["marker"].encode("utf-8")
        os.write(1, marker)
        os.write(2, marker)
        result.write(json.dumps(reply).encode("utf-8") + b"\n")
        result.flush()
        if reply.get("fatal"):
            return

try:
    _main()
finally:
    # Lingering threads of a handler must not keep the runner alive once its input is closed.
    os._exit(0)
`
