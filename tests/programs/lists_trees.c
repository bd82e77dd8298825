/* Pointer-linked data structures on the heap: a singly linked list (build,
 * reverse, merge sort, filter), a doubly linked list used as a deque, an
 * AVL tree with insertions and deletions (checked for balance and order),
 * and a chained hash table that grows. Prints sizes, heights and sums. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t state = 12345;
static uint32_t next_random(void) {
    state = state * 1664525u + 1013904223u;
    return state >> 8;
}

struct node {
    int value;
    struct node *next;
};

static struct node *push(struct node *head, int value) {
    struct node *n = malloc(sizeof *n);
    n->value = value;
    n->next = head;
    return n;
}

static struct node *reverse(struct node *head) {
    struct node *previous = NULL;
    while (head) {
        struct node *next = head->next;
        head->next = previous;
        previous = head;
        head = next;
    }
    return previous;
}

static struct node *merge(struct node *a, struct node *b) {
    struct node dummy = {0, NULL}, *tail = &dummy;
    while (a && b) {
        struct node **smaller = a->value <= b->value ? &a : &b;
        tail->next = *smaller;
        tail = *smaller;
        *smaller = (*smaller)->next;
    }
    tail->next = a ? a : b;
    return dummy.next;
}

static struct node *sort_list(struct node *head) {
    if (!head || !head->next) return head;
    struct node *slow = head, *fast = head->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    struct node *second = slow->next;
    slow->next = NULL;
    return merge(sort_list(head), sort_list(second));
}

static unsigned long list_signature(const struct node *n, int *length) {
    unsigned long signature = 0;
    *length = 0;
    for (; n; n = n->next, ++*length) signature = signature * 7 + (unsigned long)n->value;
    return signature;
}

struct deque_node {
    int value;
    struct deque_node *prev, *next;
};
struct deque {
    struct deque_node *head, *tail;
    int size;
};

static void deque_push(struct deque *d, int value, int front) {
    struct deque_node *n = calloc(1, sizeof *n);
    n->value = value;
    if (!d->head) d->head = d->tail = n;
    else if (front) { n->next = d->head; d->head->prev = n; d->head = n; }
    else { n->prev = d->tail; d->tail->next = n; d->tail = n; }
    d->size++;
}

static int deque_pop(struct deque *d, int front) {
    struct deque_node *n = front ? d->head : d->tail;
    int value = n->value;
    if (front) { d->head = n->next; if (d->head) d->head->prev = NULL; else d->tail = NULL; }
    else { d->tail = n->prev; if (d->tail) d->tail->next = NULL; else d->head = NULL; }
    free(n);
    d->size--;
    return value;
}

struct avl {
    int key, height;
    struct avl *left, *right;
};

static int height(const struct avl *t) { return t ? t->height : 0; }
static void update(struct avl *t) { t->height = 1 + (height(t->left) > height(t->right) ? height(t->left) : height(t->right)); }

static struct avl *rotate_right(struct avl *t) {
    struct avl *l = t->left;
    t->left = l->right;
    l->right = t;
    update(t);
    update(l);
    return l;
}

static struct avl *rotate_left(struct avl *t) {
    struct avl *r = t->right;
    t->right = r->left;
    r->left = t;
    update(t);
    update(r);
    return r;
}

static struct avl *rebalance(struct avl *t) {
    update(t);
    int balance = height(t->left) - height(t->right);
    if (balance > 1) {
        if (height(t->left->left) < height(t->left->right)) t->left = rotate_left(t->left);
        return rotate_right(t);
    }
    if (balance < -1) {
        if (height(t->right->right) < height(t->right->left)) t->right = rotate_right(t->right);
        return rotate_left(t);
    }
    return t;
}

static struct avl *avl_insert(struct avl *t, int key, int *inserted) {
    if (!t) {
        t = calloc(1, sizeof *t);
        t->key = key;
        t->height = 1;
        *inserted = 1;
        return t;
    }
    if (key < t->key) t->left = avl_insert(t->left, key, inserted);
    else if (key > t->key) t->right = avl_insert(t->right, key, inserted);
    return rebalance(t);
}

static struct avl *avl_remove(struct avl *t, int key, int *removed) {
    if (!t) return NULL;
    if (key < t->key) t->left = avl_remove(t->left, key, removed);
    else if (key > t->key) t->right = avl_remove(t->right, key, removed);
    else {
        *removed = 1;
        if (!t->left || !t->right) {
            struct avl *child = t->left ? t->left : t->right;
            free(t);
            return child;
        }
        struct avl *successor = t->right;
        while (successor->left) successor = successor->left;
        t->key = successor->key;
        int ignored = 0;
        t->right = avl_remove(t->right, successor->key, &ignored);
    }
    return rebalance(t);
}

static int avl_check(const struct avl *t, long *previous, long *sum, int *count) {
    if (!t) return 1;
    int ok = avl_check(t->left, previous, sum, count);
    ok &= t->key > *previous;
    *previous = t->key;
    *sum += t->key;
    ++*count;
    int balance = height(t->left) - height(t->right);
    ok &= balance >= -1 && balance <= 1;
    return ok & avl_check(t->right, previous, sum, count);
}

static void avl_free(struct avl *t) {
    if (!t) return;
    avl_free(t->left);
    avl_free(t->right);
    free(t);
}

struct entry {
    uint32_t key;
    int value;
    struct entry *next;
};
struct table {
    struct entry **buckets;
    size_t bucket_count, size;
};

static size_t bucket_of(uint32_t key, size_t count) { return (key * 2654435761u) % count; }

static void table_put(struct table *t, uint32_t key, int value) {
    if (t->size >= t->bucket_count) {
        size_t count = t->bucket_count * 2;
        struct entry **buckets = calloc(count, sizeof *buckets);
        for (size_t i = 0; i < t->bucket_count; i++)
            for (struct entry *e = t->buckets[i], *next; e; e = next) {
                next = e->next;
                size_t b = bucket_of(e->key, count);
                e->next = buckets[b];
                buckets[b] = e;
            }
        free(t->buckets);
        t->buckets = buckets;
        t->bucket_count = count;
    }
    size_t b = bucket_of(key, t->bucket_count);
    for (struct entry *e = t->buckets[b]; e; e = e->next)
        if (e->key == key) {
            e->value += value;
            return;
        }
    struct entry *e = malloc(sizeof *e);
    *e = (struct entry){key, value, t->buckets[b]};
    t->buckets[b] = e;
    t->size++;
}

int main(void) {
    struct node *list = NULL;
    for (int i = 0; i < 5000; i++) list = push(list, (int)(next_random() % 10000));
    int length;
    printf("list: signature %lu", list_signature(list, &length));
    printf(", length %d\n", length);
    list = reverse(list);
    printf("reversed: signature %lu\n", list_signature(list, &length));
    list = sort_list(list);
    int sorted = 1;
    for (struct node *n = list; n && n->next; n = n->next) sorted &= n->value <= n->next->value;
    printf("sorted: %s, first %d, signature %lu\n", sorted ? "yes" : "no", list->value, list_signature(list, &length));
    while (list) {
        struct node *next = list->next;
        free(list);
        list = next;
    }

    struct deque d = {0};
    long deque_sum = 0;
    for (int i = 0; i < 3000; i++) {
        if (next_random() % 3 == 0 && d.size) deque_sum += deque_pop(&d, (int)(next_random() % 2)) * (long)(i % 13);
        else deque_push(&d, i, (int)(next_random() % 2));
    }
    printf("deque: %d left, sum %ld\n", d.size, deque_sum);
    while (d.size) deque_pop(&d, 1);

    struct avl *tree = NULL;
    int inserted = 0, removed = 0;
    for (int i = 0; i < 20000; i++) {
        int key = (int)(next_random() % 50000);
        if (i % 4 == 3) tree = avl_remove(tree, key, &removed);
        else tree = avl_insert(tree, key, &inserted);
    }
    long previous = -1, sum = 0;
    int count = 0;
    int valid = avl_check(tree, &previous, &sum, &count);
    printf("avl: %d keys, height %d, sum %ld, valid %s, root %d\n", count, height(tree), sum, valid ? "yes" : "no", tree->key);
    avl_free(tree);

    struct table table = {calloc(8, sizeof(struct entry *)), 8, 0};
    for (int i = 0; i < 30000; i++) table_put(&table, next_random() % 20000, i % 7);
    long weighted = 0;
    size_t longest = 0;
    for (size_t b = 0; b < table.bucket_count; b++) {
        size_t chain = 0;
        for (struct entry *e = table.buckets[b], *next; e; e = next, chain++) {
            next = e->next;
            weighted += (long)e->key * e->value;
            free(e);
        }
        if (chain > longest) longest = chain;
    }
    free(table.buckets);
    printf("hash table: %zu keys in %zu buckets, longest chain %zu, weighted sum %ld\n", table.size, table.bucket_count, longest, weighted);
    return !(sorted && valid);
}
