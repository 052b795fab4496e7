// A hash map that keeps at most `capacity` entries: inserting into a full map first removes
// the oldest entry and hands it to the caller, who counts it. What bounds the memory of the
// token-following analyses (a diff's unmatched records, a token's layers waiting for the
// next one) in log length.
#pragma once

#include <cstddef>
#include <list>
#include <optional>
#include <unordered_map>
#include <utility>

namespace moe {

template <class Key, class Value, class Hash>
class BoundedFifoMap {
  public:
    explicit BoundedFifoMap(size_t capacity) : capacity_(capacity < 1 ? 1 : capacity) {}

    Value* find(const Key& k) {
        auto it = map_.find(k);
        return it == map_.end() ? nullptr : &it->second.value;
    }
    bool contains(const Key& k) const { return map_.count(k) != 0; }
    // Inserts (k, v) as the newest entry; `evicted(key, value)` is called for the oldest
    // entry first when the map is full. k must not be present.
    template <class Evicted>
    Value& insert(const Key& k, Value v, Evicted&& evicted) {
        if (map_.size() >= capacity_) {
            auto oldest = map_.find(order_.front());
            evicted(oldest->first, oldest->second.value);
            map_.erase(oldest);
            order_.pop_front();
        }
        order_.push_back(k);
        auto [it, fresh] = map_.emplace(k, Entry{std::move(v), std::prev(order_.end())});
        (void)fresh;
        return it->second.value;
    }
    void erase(const Key& k) {
        auto it = map_.find(k);
        if (it == map_.end()) return;
        order_.erase(it->second.at);
        map_.erase(it);
    }
    // Every entry, oldest first, removed as it is handed over.
    template <class F>
    void drain(F&& f) {
        for (const Key& k : order_) {
            auto it = map_.find(k);
            f(it->first, it->second.value);
        }
        map_.clear();
        order_.clear();
    }
    size_t size() const { return map_.size(); }
    size_t capacity() const { return capacity_; }

  private:
    struct Entry {
        Value value;
        typename std::list<Key>::iterator at;
    };
    size_t capacity_;
    std::list<Key> order_;
    std::unordered_map<Key, Entry, Hash> map_;
};

}  // namespace moe
