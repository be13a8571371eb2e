# Booleans deep inside sets; the condition is shown in the trace.
let enabled = { services.web.enable = false; }; in
assert enabled == { services.web.enable = true; };
0
