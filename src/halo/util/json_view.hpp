// Checked reads of a parsed JSON document, for every reader of a JSON file (config.json, manifests,
// MAC profiles, simulator configs, workloads, tokenizer files). nlohmann's own getters throw a
// type_error that knows neither the file nor the key, and silently truncate 3.7 to an int; a
// JsonView carries the file and the key path ("linears[3].spec.group_cols") so a wrong type, a
// missing key or an out-of-range number is a bad-input diagnostic naming all of them:
//   E0020 a value of the wrong JSON type (expected "an integer", found "a string \"12\"")
//   E0021 a required key is missing
//   E0022 a number outside its range (or NaN/Inf written as a huge literal)
//   E0025 an array shorter than the element asked for
// The view holds a reference: the document must outlive it.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace halo {

class JsonView {
public:
    JsonView(const nlohmann::json& value, std::string file, std::string path = {})
        : value_(&value), file_(std::move(file)), path_(std::move(path)) {}

    const nlohmann::json& raw() const { return *value_; }
    const std::string& file() const { return file_; }
    // The key path of this value; "(top)" for the document itself.
    std::string place() const { return path_.empty() ? "(top)" : path_; }

    // Object access. has(): the key is present and not null (null means "not given" in every
    // format halo reads). at(): required (E0021 when missing or null).
    bool has(std::string_view key) const;
    JsonView at(std::string_view key) const;
    // Array access.
    std::size_t size() const;                  // E0020 unless an array
    JsonView at(std::size_t index) const;      // E0020 unless an array, E0022 past the end
    std::vector<JsonView> elements() const;    // E0020 unless an array
    std::vector<std::pair<std::string, JsonView>> members() const;  // E0020 unless an object

    // Typed values. integer(): a JSON integer, or a float with an integral value, in [lo, hi].
    std::int64_t integer(std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                         std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const;
    int int32(int lo = std::numeric_limits<int>::min(), int hi = std::numeric_limits<int>::max()) const {
        return static_cast<int>(integer(lo, hi));
    }
    // A finite number in [lo, hi].
    double number(double lo = std::numeric_limits<double>::lowest(), double hi = std::numeric_limits<double>::max()) const;
    std::string string() const;
    bool boolean() const;
    void require_object() const;  // E0020 unless an object
    void require_array() const;   // E0020 unless an array

    // Optional members: the fallback when the key is absent or null, else checked as above.
    std::int64_t integer_or(std::string_view key, std::int64_t fallback, std::int64_t lo = std::numeric_limits<std::int64_t>::min(),
                            std::int64_t hi = std::numeric_limits<std::int64_t>::max()) const;
    double number_or(std::string_view key, double fallback, double lo = std::numeric_limits<double>::lowest(),
                     double hi = std::numeric_limits<double>::max()) const;
    std::string string_or(std::string_view key, std::string fallback) const;
    bool boolean_or(std::string_view key, bool fallback) const;

    [[noreturn]] void wrong_type(const std::string& expected) const;

private:
    const nlohmann::json* value_;
    std::string file_;
    std::string path_;
};

// "a string \"12\"", "an array of 3", "an object", "null", "a number 1.5": what a JSON value is,
// for the `found` part of a diagnostic (long strings cut short).
std::string describe_json(const nlohmann::json& v);

// Serializes `j` for the output file `out`. A string that is not valid UTF-8 (a file name or a
// tensor name taken from the input) cannot be written as JSON: instead of nlohmann's type_error
// (an internal error), E0023 names the output ("-" is stdout), the key path of the string and
// its bytes.
std::string dump_json(const nlohmann::json& j, int indent, const std::string& out);
std::string dump_json(const nlohmann::ordered_json& j, int indent, const std::string& out);

}  // namespace halo
