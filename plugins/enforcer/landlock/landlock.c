/* placeholder */
typedef int nono_placeholder_landlock;
