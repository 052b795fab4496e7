// Placeholder translation unit so the library exists before its first decision lands.
#include "decisions/decision.hpp"
