# An import of a file that does not exist.
{ ... }: { imports = [ ./does-not-exist.nix ]; }
