"""python-hello: a Cognite Function that greets someone.

It prints a few log lines, returns a greeting, and raises a clear error for bad input. The same file runs
on CDF and on the effect-cdf emulator (where `client` is None).
"""


def handle(data, client, secrets, function_call_info):
    print(f"call {function_call_info.get('call_id')} of function {function_call_info.get('function_id')}")
    name = data.get("name") if isinstance(data, dict) else None
    print(f"received name={name!r}")
    if not isinstance(name, str) or not name.strip():
        raise ValueError("name must be a non-empty string")
    greeting = f"Hello, {name.strip()}!"
    print(f"returning {greeting!r}")
    return {"greeting": greeting, "length": len(greeting)}
