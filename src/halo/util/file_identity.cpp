#include "halo/util/file_identity.hpp"

#include <sys/stat.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <utility>

#include "halo/util/diagnostics.hpp"

namespace halo {
namespace fs = std::filesystem;

namespace {

using Identity = std::pair<unsigned long long, unsigned long long>;  // st_dev, st_ino

struct Registry {
    std::mutex mutex;
    std::map<Identity, fs::path> inputs;  // identity -> the path it was read as
    std::set<Identity> outputs;
};
Registry& registry() {
    static Registry r;
    return r;
}

bool identity_of(const fs::path& p, Identity& id, bool& is_dir) {
    struct stat st {};
    if (::stat(p.c_str(), &st) != 0) return false;
    id = {static_cast<unsigned long long>(st.st_dev), static_cast<unsigned long long>(st.st_ino)};
    is_dir = S_ISDIR(st.st_mode);
    return true;
}

[[noreturn]] void refuse(const fs::path& target, const fs::path& input) {
    throw_bad_input_at("E0005", target.string(), "", "output would replace an input of this run",
                       "an output path that is not an input", "it is (or contains) " + input.string(),
                       "choose another output path");
}

}  // namespace

void note_input_file(const fs::path& path, unsigned long long dev, unsigned long long ino) {
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    const Identity id{dev, ino};
    if (!r.outputs.count(id)) r.inputs.emplace(id, path);
}

void note_output_file(const fs::path& path) {
    Identity id;
    bool is_dir = false;
    if (!identity_of(path, id, is_dir)) return;
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    r.outputs.insert(id);
}

void refuse_replacing_input(const fs::path& target) {
    Identity id;
    bool is_dir = false;
    if (!identity_of(target, id, is_dir)) return;
    auto& r = registry();
    std::lock_guard<std::mutex> lock(r.mutex);
    // An input deleted since it was read cannot be destroyed any more, and its inode number may
    // have been reused by an unrelated file: forget it.
    for (auto it = r.inputs.begin(); it != r.inputs.end();) {
        Identity now;
        bool now_dir = false;
        if (identity_of(it->second, now, now_dir) && now == it->first) ++it;
        else it = r.inputs.erase(it);
    }
    if (const auto it = r.inputs.find(id); it != r.inputs.end()) refuse(target, it->second);
    if (!is_dir) return;
    // A directory: is any input inside it? Walk each input's parents up to the root, by identity.
    for (const auto& [input_id, input_path] : r.inputs) {
        std::error_code ec;
        fs::path p = fs::weakly_canonical(fs::absolute(input_path), ec);
        if (ec) continue;
        for (fs::path dir = p.parent_path();; dir = dir.parent_path()) {
            Identity dir_id;
            bool dir_is_dir = false;
            if (identity_of(dir, dir_id, dir_is_dir) && dir_id == id) refuse(target, input_path);
            if (dir == dir.root_path() || dir.empty()) break;
        }
    }
}

}  // namespace halo
