# abort ends the evaluation even under tryEval.
(builtins.tryEval (abort "stop")).success
