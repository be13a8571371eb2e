# The reference prints its --show-trace hint after an error that has a trace.
import ./lib/add-string-to-int.nix
