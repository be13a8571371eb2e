# placeholder (pure arithmetic), getEnv, currentSystem's type.
{
  out = builtins.placeholder "out";
  dev = placeholder "dev";
  empty = builtins.placeholder "";
  env = builtins.getEnv "TEST_VAR";
  unset = builtins.getEnv "SERIAL_NO_SUCH_VARIABLE";
  system = builtins.typeOf builtins.currentSystem;
  time = builtins.typeOf builtins.currentTime;
}
