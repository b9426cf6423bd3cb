#pragma once
// The requested schemas of the conformance fixture's elicitations, shared by the legacy tools
// (conformance_fixture.cpp, which ask the client) and their modern forms (modern_tools.cpp,
// which answer input_required with the same question).

#include <string_view>

namespace mock::fixture {

inline constexpr std::string_view sep1034_schema_json = R"json({
  "type": "object",
  "properties": {
    "name": {"type": "string", "description": "User name", "default": "John Doe"},
    "age": {"type": "integer", "description": "User age", "default": 30},
    "score": {"type": "number", "description": "User score", "default": 95.5},
    "status": {"type": "string", "description": "User status",
               "enum": ["active", "inactive", "pending"], "default": "active"},
    "verified": {"type": "boolean", "description": "Verification status", "default": true}
  }
})json";

inline constexpr std::string_view sep1330_schema_json = R"json({
  "type": "object",
  "properties": {
    "untitledSingle": {"type": "string", "title": "Untitled single choice",
                       "enum": ["option1", "option2", "option3"]},
    "titledSingle": {"type": "string", "title": "Titled single choice",
                     "oneOf": [{"const": "value1", "title": "First Option"},
                               {"const": "value2", "title": "Second Option"},
                               {"const": "value3", "title": "Third Option"}]},
    "legacyEnum": {"type": "string", "title": "Legacy titled choice",
                   "enum": ["opt1", "opt2", "opt3"],
                   "enumNames": ["Option One", "Option Two", "Option Three"]},
    "untitledMulti": {"type": "array", "title": "Untitled multiple choice",
                      "items": {"type": "string", "enum": ["option1", "option2", "option3"]}},
    "titledMulti": {"type": "array", "title": "Titled multiple choice",
                    "items": {"anyOf": [{"const": "value1", "title": "First Choice"},
                                        {"const": "value2", "title": "Second Choice"},
                                        {"const": "value3", "title": "Third Choice"}]}}
  }
})json";

inline constexpr std::string_view elicitation_schema_json = R"json({
  "type": "object",
  "properties": {
    "username": {"type": "string", "description": "User's response"},
    "email": {"type": "string", "description": "User's email address"}
  },
  "required": ["username", "email"]
})json";

}  // namespace mock::fixture
