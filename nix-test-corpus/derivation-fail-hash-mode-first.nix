# An invalid outputHashMode is reported before the missing 'system'.
derivation { name = "a"; builder = "/b"; outputHashMode = "sideways"; outputHash = ""; }
