# Interpolation coerces what `__toString` returns; null cannot be.
"${{ __toString = self: null; }}"
