/* placeholder */
typedef int nono_placeholder_rights;
